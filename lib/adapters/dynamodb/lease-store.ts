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
  UpdateCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { conflict, isKubeleaseError, unprocessable } from '../../domain/errors.js';
import { CLUSTER_SCOPED_KINDS, PLAN_KINDS, refOf, type ObjectRef, type PlanKind, type StoredPlan } from '../../domain/plan.js';
import type { Lease, LeaseStatus } from '../../domain/types.js';
import { issueMessages } from '../../domain/zod-issues.js';
import type { LeaseQuery, LeaseStore } from '../../ports.js';
import { LEASES_BY_MOUNT_EXPIRY, LEASES_BY_MOUNT_ROLE } from '../../tables.js';
import { call, isConditionalCheckFailed, storeError } from './util.js';

export interface DynamoLeaseStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Query page size (tests force pagination with small values); default: DynamoDB's 1 MB pages */
  pageSize?: number;
}

export const roleLease = (role: string, leaseId: string) => `${role}#${leaseId}`;

const isEmptyPlainObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
/** A list that may be empty, where an untyped stream value ({}, see typedEmpty) means []. */
const list = <T extends z.ZodType>(item: T) => z.preprocess((v) => (isEmptyPlainObject(v) ? [] : v), z.array(item));
const name = z.string().min(1);

/**
 * A stored object reference: a known kind with a name, and a namespace unless cluster-scoped.
 * Items written before plans were compacted also carry labels, annotations and rules per
 * object: they are read as references.
 */
const objectRef = z
  .object({ kind: z.enum(PLAN_KINDS as [PlanKind, ...PlanKind[]]), name, namespace: z.unknown() })
  .superRefine((o, ctx) => {
    if (!CLUSTER_SCOPED_KINDS.includes(o.kind) && !(typeof o.namespace === 'string' && o.namespace !== '')) {
      ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'must be a non-empty string' });
    }
  })
  .transform((o): ObjectRef => (CLUSTER_SCOPED_KINDS.includes(o.kind) ? { kind: o.kind, name: o.name } : { kind: o.kind, namespace: o.namespace as string, name: o.name }));

const storedPlan = z.object({
  objects: list(objectRef),
  token: z.object({
    serviceAccount: z.object({ namespace: name, name }),
    audiences: list(z.string()),
    expirationSeconds: z.number(),
    boundSecret: name.optional(),
  }),
}) satisfies z.ZodType<StoredPlan>;

/** The Lease fields of a stored item (role_lease and unknown attributes are dropped). */
const leaseItemSchema = z.object({
  lease_id: z.string(),
  lease_hash: z.string(),
  mount: z.string(),
  role: z.string(),
  namespace: z.string(),
  caller_arn: z.string(),
  status: z.enum(['pending', 'active', 'revoking']),
  issued_at: z.number(),
  expires_at: z.number(),
  plan: storedPlan,
  service_account_name: z.string(),
}) satisfies z.ZodType<Lease>;

/** A lease from a stored item, checked; a broken item is a 422 naming the lease and the attribute. */
export function leaseFromItem(item: Record<string, unknown>): Lease {
  const parsed = leaseItemSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  const id = typeof item.lease_id === 'string' ? item.lease_id : '?';
  throw unprocessable(issueMessages(parsed.error.issues, 'item').map((m) => `lease ${id}: ${m}`));
}

/** The item a lease is stored as: the Lease fields, its plan as references only, and the GSI sort key. */
export const leaseItem = (lease: Lease): Record<string, unknown> => ({
  ...lease,
  plan: { objects: lease.plan.objects.map(refOf), token: lease.plan.token },
  role_lease: roleLease(lease.role, lease.lease_id),
});

/**
 * DynamoDB Local 3.x streams drop the type of empty collections ({} instead of {"M":{}} or
 * {"L":[]}; awslabs/amazon-dynamodb-local-samples#37): read them as empty maps, which the lease
 * schema takes for [] where a list belongs.
 */
function typedEmpty(v: AttributeValue): AttributeValue {
  if (Object.keys(v).length === 0) return { M: {} };
  if (v.M) return { M: Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, typedEmpty(x)])) };
  if (v.L) return { L: v.L.map(typedEmpty) };
  return v;
}

/** A lease from a DynamoDB stream image (OLD_IMAGE of a REMOVE), for the expire handler. */
export function leaseFromImage(image: Record<string, AttributeValue>): Lease {
  let item: Record<string, unknown>;
  try {
    item = unmarshall(typedEmpty({ M: image }).M!);
  } catch (e) {
    // an attribute value the unmarshaller refuses is as broken as a wrong attribute: a 422, not a retry
    throw unprocessable(`lease ${image.lease_id?.S ?? '?'}: unreadable stream image: ${e instanceof Error ? e.message : String(e)}`);
  }
  return leaseFromItem(item);
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
      // Its own attempt left exactly this item; anything else (even one field) is a collision.
      const stored = await this.rawItem(lease.lease_id);
      if (stored !== undefined && isDeepStrictEqual(stored, JSON.parse(JSON.stringify(leaseItem(lease))))) return;
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
    // without a filter, no page needs to read more than what is wanted
    const pageSize = input.FilterExpression || limit === undefined ? this.pageSize : Math.min(limit, this.pageSize ?? limit);
    const leases: Lease[] = [];
    await call(this.table, 'Query', async () => {
      for await (const page of paginateQuery({ client: this.client, ...(pageSize ? { pageSize } : {}) }, input)) {
        for (const it of page.Items ?? []) {
          if (limit !== undefined && leases.length >= limit) break;
          try {
            leases.push(leaseFromItem(it));
          } catch (e) {
            // a broken item is reported (when the caller asks) and skipped, not the end of the listing
            if (!query.onUnreadable || !isKubeleaseError(e) || e.kind !== 'unprocessable') throw e;
            query.onUnreadable({ lease_id: String(it.lease_id), ...(typeof it.lease_hash === 'string' ? { lease_hash: it.lease_hash } : {}) }, e.errors);
          }
        }
        if (limit !== undefined && leases.length >= limit) break;
      }
    });
    return leases;
  }
}
