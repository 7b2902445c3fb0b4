/**
 * In-memory stores with the same conditional semantics as the DynamoDB ones, for engine unit
 * tests and quick local runs. Values are deep-copied on the way in and out, like a real store.
 * `failNext(method, error)` makes the next call of a method throw (rollback paths in tests).
 */
import { conflict } from '../../domain/errors.js';
import { refOf } from '../../domain/plan.js';
import type { ClusterConfig, Lease, LeaseStatus } from '../../domain/types.js';
import type { ConfigStore, LeaseQuery, LeaseStore, RoleStore } from '../../ports.js';

const copy = <T>(v: T): T => structuredClone(v);
/** DynamoDB drops undefined attributes (removeUndefinedValues); so do we. */
const stored = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

class Faults<M extends string> {
  private readonly pending = new Map<M, unknown[]>();
  failNext(method: M, error: unknown = new Error(`injected failure in ${method}`)): void {
    this.pending.set(method, [...(this.pending.get(method) ?? []), error]);
  }
  protected fault(method: M): void {
    const queue = this.pending.get(method);
    if (queue && queue.length > 0) throw queue.shift();
  }
}

export class MemoryConfigStore extends Faults<keyof ConfigStore> implements ConfigStore {
  readonly items = new Map<string, ClusterConfig>();

  async get(mount: string): Promise<ClusterConfig | undefined> {
    this.fault('get');
    const c = this.items.get(mount);
    return c ? copy(c) : undefined;
  }
  async exists(mount: string): Promise<boolean> {
    this.fault('exists');
    return this.items.has(mount);
  }
  async put(config: ClusterConfig): Promise<void> {
    this.fault('put');
    this.items.set(config.mount, stored(config));
  }
  async delete(mount: string): Promise<void> {
    this.fault('delete');
    this.items.delete(mount);
  }
  async list(): Promise<string[]> {
    this.fault('list');
    return [...this.items.keys()].sort();
  }
  installation: string | undefined;
  async installationId(): Promise<string | undefined> {
    this.fault('installationId');
    return this.installation;
  }
  async ensureInstallationId(create: () => string): Promise<string> {
    this.fault('ensureInstallationId');
    this.installation ??= create();
    return this.installation;
  }
}

export class MemoryRoleStore extends Faults<keyof RoleStore> implements RoleStore {
  /** key `<mount>\u0000<name>`; values as the table holds them (incl. mount and name) */
  readonly items = new Map<string, Record<string, unknown>>();
  private static key = (mount: string, name: string) => `${mount}\u0000${name}`;

  /** Stores an item verbatim, as an admin editing in the console would (no key fix-up). */
  setRaw(mount: string, name: string, item: Record<string, unknown>): void {
    this.items.set(MemoryRoleStore.key(mount, name), stored({ ...item, mount, name }));
  }

  async get(mount: string, name: string): Promise<Record<string, unknown> | undefined> {
    this.fault('get');
    const it = this.items.get(MemoryRoleStore.key(mount, name));
    return it ? copy(it) : undefined;
  }
  async put(mount: string, name: string, item: Record<string, unknown>): Promise<void> {
    this.fault('put');
    this.items.set(MemoryRoleStore.key(mount, name), stored({ ...item, mount, name }));
  }
  async delete(mount: string, name: string): Promise<void> {
    this.fault('delete');
    this.items.delete(MemoryRoleStore.key(mount, name));
  }
  async list(mount: string): Promise<string[]> {
    this.fault('list');
    return this.names(mount).sort();
  }
  async deleteAll(mount: string): Promise<void> {
    this.fault('deleteAll');
    for (const name of this.names(mount)) this.items.delete(MemoryRoleStore.key(mount, name));
  }
  private names(mount: string): string[] {
    const out: string[] = [];
    for (const it of this.items.values()) if (it.mount === mount && typeof it.name === 'string') out.push(it.name);
    return out;
  }
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class MemoryLeaseStore extends Faults<keyof LeaseStore> implements LeaseStore {
  readonly items = new Map<string, Lease>();

  async create(lease: Lease): Promise<void> {
    this.fault('create');
    if (this.items.has(lease.lease_id)) throw conflict(`lease ${lease.lease_id} already exists`);
    this.items.set(lease.lease_id, stored({ ...lease, plan: { objects: lease.plan.objects.map(refOf), token: lease.plan.token } }));
  }
  async get(leaseId: string): Promise<Lease | undefined> {
    this.fault('get');
    const l = this.items.get(leaseId);
    return l ? copy(l) : undefined;
  }
  async transition(
    leaseId: string,
    from: LeaseStatus[],
    patch: Partial<Pick<Lease, 'status' | 'expires_at'>>,
  ): Promise<boolean> {
    this.fault('transition');
    const l = this.items.get(leaseId);
    if (!l) return false;
    // as DynamoLeaseStore: an item already holding the patch counts as this call's doing
    if (!from.includes(l.status)) return patch.status !== undefined && l.status === patch.status && (patch.expires_at === undefined || l.expires_at === patch.expires_at);
    if (patch.status !== undefined) l.status = patch.status;
    if (patch.expires_at !== undefined) l.expires_at = patch.expires_at;
    return true;
  }
  async delete(leaseId: string): Promise<boolean> {
    this.fault('delete');
    return this.items.delete(leaseId);
  }
  /** Same selection and order as DynamoLeaseStore (see there). */
  async listByMount(mount: string, query: LeaseQuery = {}): Promise<Lease[]> {
    this.fault('listByMount');
    const { role, expiredBefore, limit } = query;
    if (limit !== undefined && limit <= 0) return [];
    let out = [...this.items.values()].filter(
      (l) =>
        l.mount === mount &&
        (role === undefined || l.role === role) &&
        (expiredBefore === undefined || l.expires_at < expiredBefore),
    );
    const rl = (l: Lease) => `${l.role}#${l.lease_id}`;
    out =
      role === undefined && expiredBefore !== undefined
        ? out.sort((a, b) => a.expires_at - b.expires_at || byString(a.lease_id, b.lease_id))
        : out.sort((a, b) => byString(rl(a), rl(b)));
    return (limit === undefined ? out : out.slice(0, limit)).map(copy);
  }
}
