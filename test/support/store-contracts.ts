/**
 * One contract per store port (lib/ports.ts), run against every adapter of it: the in-memory
 * fakes (test/unit/adapters/memory-stores.test.ts) and the DynamoDB stores against DynamoDB Local
 * (test/integration/store-contracts.test.ts). A fake that drifts from the real store fails here.
 *
 * Each test gets a fresh store context. Adapters that share one table across tests (DynamoDB)
 * give each test its own mount names (`mount('m1')`) and say which listed mounts are its own.
 */
import { KubeleaseError } from '../../lib/domain/errors.js';
import type { ClusterConfig, Lease } from '../../lib/domain/types.js';
import type { ConfigStore, LeaseStore, RoleStore } from '../../lib/ports.js';
import { leaseFixture } from './fixtures.js';

export interface StoreContext<S> {
  store: S;
  /** this test's name for a mount */
  mount(name: string): string;
  /** whether a mount list() returned is one of this test's */
  owns(mount: string): boolean;
}

type Fresh<S> = () => Promise<StoreContext<S>> | StoreContext<S>;

export function leaseStoreContract(adapter: string, fresh: Fresh<LeaseStore>, timeout?: number): void {
  describe(`LeaseStore contract: ${adapter}`, () => {
    let s: LeaseStore;
    let lease: (id: string, over?: Partial<Lease>) => Lease;
    let m: (name: string) => string;
    beforeEach(async () => {
      const ctx = await fresh();
      s = ctx.store;
      m = (name) => ctx.mount(name);
      lease = (id, over = {}) => leaseFixture(id, { ...over, mount: m(over.mount ?? 'm1') });
    });

    test('create refuses a duplicate id with a conflict', async () => {
      await s.create(lease('a'));
      const err = await s.create(lease('a', { namespace: 'other' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KubeleaseError);
      expect((err as KubeleaseError).kind).toBe('conflict');
      expect((await s.get(lease('a').lease_id))?.namespace).toBe('default');
    }, timeout);

    test('transition is conditional on the current status and on existence', async () => {
      const id = lease('a').lease_id;
      await s.create(lease('a'));
      expect(await s.transition(id, ['pending'], { status: 'active', expires_at: 5000 })).toBe(true);
      expect(await s.transition(id, ['pending'], { status: 'active', expires_at: 6000 })).toBe(false);
      expect(await s.get(id)).toMatchObject({ status: 'active', expires_at: 5000 });
      expect(await s.transition(id, ['pending', 'active'], { status: 'revoking' })).toBe(true);
      expect(await s.transition(id, [], { status: 'active' })).toBe(false);
      expect(await s.transition(`${m('m1')}/creds/ci/nope`, ['pending', 'active', 'revoking'], { status: 'active' })).toBe(false);
      expect(await s.get(`${m('m1')}/creds/ci/nope`)).toBeUndefined();
      expect((await s.get(id))?.status).toBe('revoking');
    }, timeout);

    test('delete is conditional: exactly one of concurrent deletes wins', async () => {
      await s.create(lease('a'));
      const results = await Promise.all([s.delete(lease('a').lease_id), s.delete(lease('a').lease_id)]);
      expect(results.sort()).toEqual([false, true]);
      expect(await s.get(lease('a').lease_id)).toBeUndefined();
      // a deleted id may be created again
      await s.create(lease('a'));
    }, timeout);

    test('values are copies: mutating what was given or returned does not change the store', async () => {
      const l = lease('a');
      await s.create(l);
      l.status = 'active';
      l.plan.objects[0]!.name = 'changed';
      const got = (await s.get(l.lease_id))!;
      expect(got.status).toBe('pending');
      expect(got.plan.objects[0]!.name).toBe('kl-ci-a');
      got.namespace = 'x';
      expect((await s.get(l.lease_id))!.namespace).toBe('default');
    }, timeout);

    test('a lease reads back as it was written', async () => {
      const l = lease('a', { status: 'active', expires_at: 4000 });
      await s.create(l);
      expect(await s.get(l.lease_id)).toEqual(l);
    }, timeout);

    test('listByMount filters by mount, role, expiredBefore and limit, ordered like the GSIs', async () => {
      await s.create(lease('c', { role: 'ci', expires_at: 300 }));
      await s.create(lease('a', { role: 'ci', expires_at: 100 }));
      await s.create(lease('b', { role: 'deploy', expires_at: 200 }));
      await s.create(lease('d', { role: 'ci2', expires_at: 50 }));
      await s.create(lease('e', { mount: 'm2', expires_at: 1 }));
      const ids = (ls: Lease[]) => ls.map((l) => l.lease_hash);
      expect(ids(await s.listByMount(m('m1')))).toEqual(['a', 'c', 'd', 'b']); // by role#lease_id
      expect(ids(await s.listByMount(m('m1'), { role: 'ci' }))).toEqual(['a', 'c']); // not ci2
      expect(ids(await s.listByMount(m('m1'), { expiredBefore: 300 }))).toEqual(['d', 'a', 'b']); // oldest first, strict <
      expect(ids(await s.listByMount(m('m1'), { role: 'ci', expiredBefore: 300 }))).toEqual(['a']);
      expect(ids(await s.listByMount(m('m1'), { expiredBefore: 1000, limit: 2 }))).toEqual(['d', 'a']);
      expect(await s.listByMount(m('m1'), { limit: 0 })).toEqual([]);
      expect(ids(await s.listByMount(m('m2')))).toEqual(['e']);
      expect(await s.listByMount(m('nope'))).toEqual([]);
    }, timeout);
  });
}

export function configStoreContract(adapter: string, fresh: Fresh<ConfigStore>, timeout?: number): void {
  describe(`ConfigStore contract: ${adapter}`, () => {
    let ctx: StoreContext<ConfigStore>;
    beforeEach(async () => {
      ctx = await fresh();
    });
    const jwtConfig = (mount: string): ClusterConfig => ({
      mount,
      kubernetes_host: 'https://127.0.0.1:6443',
      kubernetes_ca_cert: 'PEM',
      disable_local_ca_jwt: false,
      auth: { kind: 'service_account_jwt', service_account_jwt: 'jwt' },
    });

    test('put replaces the whole config, get copies, list sorted, delete idempotent', async () => {
      const { store: s, mount: m } = ctx;
      const ours = async () => (await s.list()).filter((x) => ctx.owns(x));
      await s.put(jwtConfig(m('zeta')));
      await s.put(jwtConfig(m('alpha')));
      await s.put({ ...jwtConfig(m('alpha')), auth: { kind: 'eks', eks_cluster_name: 'c', eks_region: 'eu-west-1', role_arn: undefined } });
      expect(await ours()).toEqual([m('alpha'), m('zeta')]);
      const got = (await s.get(m('alpha')))!;
      expect(got.auth).toEqual({ kind: 'eks', eks_cluster_name: 'c', eks_region: 'eu-west-1' });
      expect('role_arn' in got.auth).toBe(false); // undefined attributes are dropped, as in DynamoDB
      got.kubernetes_host = 'changed';
      expect((await s.get(m('alpha')))!.kubernetes_host).toBe('https://127.0.0.1:6443');
      await s.delete(m('alpha'));
      await s.delete(m('alpha'));
      expect(await s.get(m('alpha'))).toBeUndefined();
      expect(await ours()).toEqual([m('zeta')]);
    }, timeout);

    test('the installation id is created once and kept; list() never shows it', async () => {
      const { store: s } = ctx;
      const first = await s.ensureInstallationId(() => 'inst-1');
      expect(first).toMatch(/\S/);
      expect(await s.ensureInstallationId(() => 'inst-2')).toBe(first);
      expect(await s.installationId()).toBe(first);
      expect((await s.list()).filter((x) => x.includes('installation'))).toEqual([]);
    }, timeout);
  });
}

export function roleStoreContract(adapter: string, fresh: Fresh<RoleStore>, timeout?: number): void {
  describe(`RoleStore contract: ${adapter}`, () => {
    test('raw items with key attributes; put replaces; list sorted per mount; deleteAll scoped to a mount', async () => {
      const { store: s, mount: m } = await fresh();
      await s.put(m('m1'), 'b', { token_max_ttl: 600, extra: { x: 1 } });
      await s.put(m('m1'), 'a', { token_max_ttl: 'oops' });
      await s.put(m('m2'), 'a', { token_max_ttl: 1 });
      await s.put(m('m1'), 'b', { allowed_kubernetes_namespaces: ['x'], mount: 'spoof', name: 'spoof' });
      expect(await s.get(m('m1'), 'b')).toEqual({ mount: m('m1'), name: 'b', allowed_kubernetes_namespaces: ['x'] });
      expect(await s.get(m('m1'), 'a')).toEqual({ mount: m('m1'), name: 'a', token_max_ttl: 'oops' });
      expect(await s.get(m('m1'), 'missing')).toBeUndefined();
      expect(await s.list(m('m1'))).toEqual(['a', 'b']);
      await s.delete(m('m1'), 'a');
      await s.delete(m('m1'), 'a');
      expect(await s.list(m('m1'))).toEqual(['b']);
      await s.deleteAll(m('m1'));
      expect(await s.list(m('m1'))).toEqual([]);
      expect(await s.list(m('m2'))).toEqual(['a']);
    }, timeout);
  });
}
