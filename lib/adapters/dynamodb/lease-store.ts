/**
 * Leases in the leases table, key lease_id. Every write is conditional so issue, revoke, the
 * stream consumer and the sweeper can race safely. Items carry the Lease fields (the plan as a
 * map) plus `role_lease = <role>#<lease_id>`, the sort key of GSI by_mount_role.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { conflict, isKubeleaseError, unprocessable } from '../../domain/errors.js';
import { CLUSTER_SCOPED_KINDS, PLAN_KINDS, refOf, type ObjectRef, type PlanKind, type StoredPlan } from '../../domain/plan.js';
import type { Lease, LeaseStatus } from '../../domain/types.js';
import type { LeaseQuery, LeaseStore } from '../../ports.js';
import { LEASES_BY_MOUNT_EXPIRY, LEASES_BY_MOUNT_ROLE } from './tables.js';
import { call, isConditionalCheckFailed, storeError, unmarshallItem } from './util.js';

export interface DynamoLeaseStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Query page size (tests force pagination with small values); default: DynamoDB's 1 MB pages */
  pageSize?: number;
}

export const roleLease = (role: string, leaseId: string) => `${role}#${leaseId}`;

const STATUSES: readonly LeaseStatus[] = ['pending', 'active', 'revoking'];

const isEmptyPlainObject = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

/** A list that may be empty, where an untyped stream value ({}) means [] (see unmarshallValue). */
const listOf = (v: unknown): unknown => (isEmptyPlainObject(v) ? [] : v);

const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * The stored plan of an item, checked: every object a known kind with a name (and a namespace
 * unless cluster-scoped), the token spec complete. Items written before plans were compacted
 * also carry labels, annotations and rules per object: they are read as references.
 */
function storedPlanFrom(raw: unknown, bad: (field: string, want: string) => Error): StoredPlan {
  if (typeof raw !== 'object' || raw === null) throw bad('plan', 'a map');
  const plan = raw as { objects?: unknown; token?: unknown };
  const objects = listOf(plan.objects);
  if (!Array.isArray(objects)) throw bad('plan.objects', 'a list of maps');
  const refs = objects.map((o: unknown, i): ObjectRef => {
    const obj = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
    const kind = obj.kind as PlanKind;
    if (!PLAN_KINDS.includes(kind)) throw bad(`plan.objects[${i}].kind`, PLAN_KINDS.join('|'));
    if (!isString(obj.name)) throw bad(`plan.objects[${i}].name`, 'a non-empty string');
    if (CLUSTER_SCOPED_KINDS.includes(kind)) return { kind, name: obj.name };
    if (!isString(obj.namespace)) throw bad(`plan.objects[${i}].namespace`, 'a non-empty string');
    return { kind, namespace: obj.namespace, name: obj.name };
  });
  const token = (typeof plan.token === 'object' && plan.token !== null ? plan.token : undefined) as Record<string, unknown> | undefined;
  if (!token) throw bad('plan.token', 'a map');
  const sa = (token.serviceAccount ?? {}) as Record<string, unknown>;
  if (!isString(sa.namespace) || !isString(sa.name)) throw bad('plan.token.serviceAccount', 'a map with namespace and name');
  const audiences = listOf(token.audiences);
  if (!Array.isArray(audiences) || !audiences.every((a) => typeof a === 'string')) throw bad('plan.token.audiences', 'a list of strings');
  if (typeof token.expirationSeconds !== 'number') throw bad('plan.token.expirationSeconds', 'a number');
  if (token.boundSecret !== undefined && !isString(token.boundSecret)) throw bad('plan.token.boundSecret', 'a string');
  return {
    objects: refs,
    token: {
      serviceAccount: { namespace: sa.namespace, name: sa.name },
      audiences: audiences as string[],
      expirationSeconds: token.expirationSeconds,
      ...(token.boundSecret !== undefined ? { boundSecret: token.boundSecret } : {}),
    },
  };
}

/** Picks the Lease fields out of a stored item (drops role_lease), checking their types. */
export function leaseFromItem(item: Record<string, unknown>): Lease {
  const id = typeof item.lease_id === 'string' ? item.lease_id : '?';
  const bad = (field: string, want: string) => unprocessable(`lease ${id}: ${field} must be ${want}`);
  const str = (f: string): string => {
    const v = item[f];
    if (typeof v !== 'string') throw bad(f, 'a string');
    return v;
  };
  const num = (f: string): number => {
    const v = item[f];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(f, 'a number');
    return v;
  };
  const status = item.status;
  if (typeof status !== 'string' || !STATUSES.includes(status as LeaseStatus)) throw bad('status', STATUSES.join('|'));
  const plan = storedPlanFrom(item.plan, bad);
  return {
    lease_id: str('lease_id'),
    lease_hash: str('lease_hash'),
    mount: str('mount'),
    role: str('role'),
    namespace: str('namespace'),
    caller_arn: str('caller_arn'),
    status: status as LeaseStatus,
    issued_at: num('issued_at'),
    expires_at: num('expires_at'),
    plan,
    service_account_name: str('service_account_name'),
  };
}

/** The item a lease is stored as: the Lease fields, its plan as references only, and the GSI sort key. */
export const leaseItem = (lease: Lease): Record<string, unknown> => ({
  ...lease,
  plan: { objects: lease.plan.objects.map(refOf), token: lease.plan.token },
  role_lease: roleLease(lease.role, lease.lease_id),
});

/** A lease from a DynamoDB stream image (OLD_IMAGE of a REMOVE), for the expire handler. */
export function leaseFromImage(image: Record<string, AttributeValue>): Lease {
  return leaseFromItem(unmarshallItem(image));
}

export class DynamoLeaseStore implements LeaseStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly pageSize: number | undefined;

  constructor(options: DynamoLeaseStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.pageSize = options.pageSize;
  }

  async create(lease: Lease): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: leaseItem(lease),
          ConditionExpression: 'attribute_not_exists(lease_id)',
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw storeError(this.table, 'PutItem', e);
      // The SDK retries an attempt whose answer was lost (a timeout, a dropped connection): the
      // item it then finds may be its own first attempt's, not a collision.
      const stored = await this.rawItem(lease.lease_id);
      if (stored?.lease_hash === lease.lease_hash && stored.caller_arn === lease.caller_arn && stored.issued_at === lease.issued_at) return;
      throw conflict(`lease ${lease.lease_id} already exists`);
    }
  }

  private async rawItem(leaseId: string): Promise<Record<string, unknown> | undefined> {
    const out = await call(this.table, 'GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.table, Key: { lease_id: leaseId }, ConsistentRead: true })),
    );
    return out.Item;
  }

  async get(leaseId: string): Promise<Lease | undefined> {
    const item = await this.rawItem(leaseId);
    return item ? leaseFromItem(item) : undefined;
  }

  async transition(
    leaseId: string,
    from: LeaseStatus[],
    patch: Partial<Pick<Lease, 'status' | 'expires_at'>>,
  ): Promise<boolean> {
    if (from.length === 0) return false;
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {};
    from.forEach((s, i) => (values[`:f${i}`] = s));
    const sets: string[] = [];
    if (patch.status !== undefined) {
      values[':status'] = patch.status;
      sets.push('#status = :status');
    }
    if (patch.expires_at !== undefined) {
      names['#exp'] = 'expires_at';
      values[':exp'] = patch.expires_at;
      sets.push('#exp = :exp');
    }
    // an empty patch still checks the condition
    if (sets.length === 0) sets.push('#status = #status');
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { lease_id: leaseId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(lease_id) AND #status IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw storeError(this.table, 'UpdateItem', e);
      // as in create: a retried attempt may find the item already as it would have left it
      const stored = await this.rawItem(leaseId);
      const applied =
        stored !== undefined &&
        patch.status !== undefined &&
        stored.status === patch.status &&
        (patch.expires_at === undefined || stored.expires_at === patch.expires_at);
      return applied;
    }
  }

  async delete(leaseId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { lease_id: leaseId },
          ConditionExpression: 'attribute_exists(lease_id)',
        }),
      );
      return true;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return false;
      throw storeError(this.table, 'DeleteItem', e);
    }
  }

  /**
   * Leases of one mount. `role` → GSI by_mount_role, ordered by role then lease id;
   * `expiredBefore` alone → GSI by_mount_expiry, oldest first; both → the role index with a
   * filter; neither → the role index (all leases of the mount). `limit` caps the result (pages
   * are followed until it is reached). GSI reads are eventually consistent.
   */
  async listByMount(mount: string, query: LeaseQuery = {}): Promise<Lease[]> {
    const { role, expiredBefore, limit } = query;
    if (limit !== undefined && limit <= 0) return [];
    const input: QueryCommandInput = { TableName: this.table, KeyConditionExpression: '', ExpressionAttributeValues: {} };
    const values = input.ExpressionAttributeValues as Record<string, unknown>;
    values[':m'] = mount;
    if (role !== undefined) {
      input.IndexName = LEASES_BY_MOUNT_ROLE;
      input.KeyConditionExpression = 'mount = :m AND begins_with(role_lease, :rl)';
      values[':rl'] = `${role}#`;
      if (expiredBefore !== undefined) {
        input.FilterExpression = 'expires_at < :t';
        values[':t'] = expiredBefore;
      }
    } else if (expiredBefore !== undefined) {
      input.IndexName = LEASES_BY_MOUNT_EXPIRY;
      input.KeyConditionExpression = 'mount = :m AND expires_at < :t';
      values[':t'] = expiredBefore;
    } else {
      input.IndexName = LEASES_BY_MOUNT_ROLE;
      input.KeyConditionExpression = 'mount = :m';
    }
    const leases: Lease[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const remaining = limit === undefined ? undefined : limit - leases.length;
      // without a filter, no page needs to read more than what is still wanted
      const pageLimit = input.FilterExpression || remaining === undefined ? this.pageSize : Math.min(remaining, this.pageSize ?? remaining);
      const page = await call(this.table, 'Query', () =>
        this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: start, Limit: pageLimit })),
      );
      for (const it of page.Items ?? []) {
        if (limit !== undefined && leases.length >= limit) break;
        try {
          leases.push(leaseFromItem(it));
        } catch (e) {
          if (!query.onUnreadable || !isKubeleaseError(e) || e.kind !== 'unprocessable') throw e;
          query.onUnreadable({ lease_id: String(it.lease_id), ...(typeof it.lease_hash === 'string' ? { lease_hash: it.lease_hash } : {}) }, e.errors);
        }
      }
      start = page.LastEvaluatedKey;
    } while (start && (limit === undefined || leases.length < limit));
    return leases;
  }
}
