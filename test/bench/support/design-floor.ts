/**
 * The floor of the broker's design: its own DynamoDB and Kubernetes calls, in its order, made
 * from the bench with plain clients (raw-kube.ts for the apiserver, the SDK's document client for
 * DynamoDB Local) and no code of ours between them:
 *   1. the lease item (conditional PutItem) beside the plan's creates: the owner (ServiceAccount or
 *      anchor Secret), then the other objects in parallel (mode 3: Role and RoleBinding);
 *   2. once both are done, the TokenRequest;
 *   3. the consistent re-read of the lease and the mount's config, in parallel.
 * No HTTP ingress, SigV4 check, handler, validation or engine. What the floor takes over the naive
 * calls is what the design's guarantees cost on this machine (docs/api.md: no token before its
 * lease item, a lease revoked meanwhile withdraws the token); what the broker takes over the
 * floor is its own code and the API Gateway stand-in.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../lib/adapters/dynamodb/client.js';
import { leaseItem } from '../../../lib/adapters/dynamodb/lease-store.js';
import { leaseHash, newLeaseId, toStoredPlan, type Lease, type Plan } from '../../../lib/domain/index.js';
import { randomIds } from '../../../lib/adapters/random-ids.js';
import type { TestBedInfo } from '../../../lib/local/testbed/index.js';
import { rawCreate, rawToken, type RawKube } from './raw-kube.js';

export interface DesignFloor {
  /**
   * One issuance of `plan` the floor's way; its lease item is kept until `cleanUp`. Without
   * `reread` it skips step 3: what giving up that guarantee would buy.
   */
  issue(plan: Plan, opts?: { reread?: boolean }): Promise<void>;
  /** deletes the lease items written so far (plain DeleteItems: the stack's expire ignores them) */
  cleanUp(): Promise<void>;
  close(): void;
}

export function designFloor(bed: TestBedInfo, kube: RawKube, tables: { leases: string; config: string }, mount: string): DesignFloor {
  const ddb: DynamoDBDocumentClient = createDocumentClient(bed.dynamodb);
  const written: string[] = [];
  return {
    async issue(plan, { reread = true } = {}) {
      const lease = leaseFor(plan, mount);
      const isOwner = (kind: string) => kind === 'ServiceAccount' || kind === 'Secret';
      const [owner] = plan.objects.filter((o) => isOwner(o.kind));
      if (!owner) throw new Error('a plan without a ServiceAccount or anchor Secret');
      const createPlan = async () => {
        const ref = { name: owner.name, uid: await rawCreate(kube, owner) };
        await Promise.all(plan.objects.filter((o) => !isOwner(o.kind)).map((o) => rawCreate(kube, o, ref)));
        return ref;
      };
      const [, ownerRef] = await Promise.all([
        ddb.send(new PutCommand({ TableName: tables.leases, Item: leaseItem(lease), ConditionExpression: 'attribute_not_exists(lease_id)' })),
        createPlan(),
      ]);
      written.push(lease.lease_id);
      await rawToken(kube, plan.token.serviceAccount, plan.token.expirationSeconds, owner.kind === 'Secret' ? ownerRef : undefined);
      if (!reread) return;
      const [stored, config] = await Promise.all([
        ddb.send(new GetCommand({ TableName: tables.leases, Key: { lease_id: lease.lease_id }, ConsistentRead: true })),
        ddb.send(new GetCommand({ TableName: tables.config, Key: { mount }, ConsistentRead: true, ProjectionExpression: 'mount' })),
      ]);
      if (stored.Item?.status !== 'active' || !config.Item) throw new Error(`the floor's re-read found lease ${lease.lease_id} or mount ${mount} gone`);
    },
    async cleanUp() {
      for (const id of written.splice(0)) await ddb.send(new DeleteCommand({ TableName: tables.leases, Key: { lease_id: id } }));
    },
    close: () => ddb.destroy(),
  };
}

/** the item the broker would write for this plan (its size and indexed attributes are what DynamoDB Local pays for) */
function leaseFor(plan: Plan, mount: string): Lease {
  const id = newLeaseId(mount, 'bench-floor', randomIds.random);
  const now = Math.floor(Date.now() / 1000);
  return {
    lease_id: id,
    lease_hash: leaseHash(id),
    mount,
    role: 'bench-floor',
    namespace: plan.token.serviceAccount.namespace,
    caller_arn: 'arn:aws:iam::000000000000:user/bench',
    status: 'active',
    issued_at: now,
    expires_at: now + plan.token.expirationSeconds,
    plan: toStoredPlan(plan),
    service_account_name: plan.token.serviceAccount.name,
  };
}
