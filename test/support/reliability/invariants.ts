/**
 * The promises checked after every fault, crash and race: for one mount, every object labeled
 * with it belongs to a lease item that lists it, every lease still stored is active and all of
 * its objects exist, and nothing is half-done (no pending or revoking lease left). Read as the
 * bed admin and straight from the table, not through the broker's own adapters.
 */
import { DeleteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, dynamoClient } from '../bed.js';

export interface LabeledObject {
  kind: string;
  namespace?: string;
  name: string;
  lease: string;
}

export interface StoredLease {
  lease_id: string;
  lease_hash: string;
  status: string;
  objects: { kind: string; namespace?: string; name: string }[];
}

export interface Violations {
  /** labeled objects whose lease item is gone or does not list them */
  orphans: string[];
  /** objects a stored lease lists that do not exist (active leases only) */
  missing: string[];
  /** leases left pending or revoking */
  unfinished: string[];
}

const key = (o: { kind: string; namespace?: string; name: string }) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;

/** Labeled objects of a mount (deleted ones whose finalizers still run count as gone). */
export async function labeledObjects(mount: string): Promise<LabeledObject[]> {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const labelSelector = `kubelease.io/mount=${mount}`;
  type Item = { metadata?: k8s.V1ObjectMeta };
  const of = (kind: string) => (l: { items: Item[] }) =>
    l.items
      .filter((o) => !o.metadata?.deletionTimestamp)
      .map((o) => ({
        kind,
        ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
        name: o.metadata?.name ?? '',
        lease: o.metadata?.labels?.['kubelease.io/lease'] ?? '',
      }));
  const lists = await Promise.all([
    core.listServiceAccountForAllNamespaces({ labelSelector }).then(of('ServiceAccount')),
    core.listSecretForAllNamespaces({ labelSelector }).then(of('Secret')),
    rbac.listRoleForAllNamespaces({ labelSelector }).then(of('Role')),
    rbac.listRoleBindingForAllNamespaces({ labelSelector }).then(of('RoleBinding')),
    rbac.listClusterRole({ labelSelector }).then(of('ClusterRole')),
    rbac.listClusterRoleBinding({ labelSelector }).then(of('ClusterRoleBinding')),
  ]);
  return lists.flat();
}

const str = (v: AttributeValue | undefined) => v?.S ?? '';

/** Lease items of a mount, raw from the table (a consistent scan). */
export async function storedLeases(table: string, mount: string): Promise<StoredLease[]> {
  const out: StoredLease[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamoClient().send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        FilterExpression: 'mount = :m',
        ExpressionAttributeValues: { ':m': { S: mount } },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const objects = (item.plan?.M?.objects?.L ?? []).map((o) => ({
        kind: str(o.M?.kind),
        ...(o.M?.namespace?.S ? { namespace: o.M.namespace.S } : {}),
        name: str(o.M?.name),
      }));
      out.push({ lease_id: str(item.lease_id), lease_hash: str(item.lease_hash), status: str(item.status), objects });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

export async function violations(table: string, mount: string): Promise<Violations> {
  const [objects, leases] = await Promise.all([labeledObjects(mount), storedLeases(table, mount)]);
  const byHash = new Map(leases.map((l) => [l.lease_hash, l]));
  const present = new Set(objects.map(key));
  const orphans = objects
    .filter((o) => {
      const lease = byHash.get(o.lease);
      return !lease || !lease.objects.some((p) => key(p) === key(o));
    })
    .map((o) => `${key(o)} (lease ${o.lease || 'unlabeled'})`);
  const missing = leases
    .filter((l) => l.status === 'active')
    .flatMap((l) => l.objects.filter((p) => !present.has(key(p))).map((p) => `${l.lease_id}: ${key(p)}`));
  const unfinished = leases.filter((l) => l.status !== 'active').map((l) => `${l.lease_id}: ${l.status}`);
  return { orphans, missing, unfinished };
}

export const noViolations: Violations = { orphans: [], missing: [], unfinished: [] };

/** Deletes, as the bed admin, every labeled object and lease item of a mount (cleanup after a failed case). */
export async function purgeMount(table: string, mount: string): Promise<void> {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const del: Record<string, (name: string, namespace: string) => Promise<unknown>> = {
    ServiceAccount: (name, namespace) => core.deleteNamespacedServiceAccount({ name, namespace }),
    Secret: (name, namespace) => core.deleteNamespacedSecret({ name, namespace }),
    Role: (name, namespace) => rbac.deleteNamespacedRole({ name, namespace }),
    RoleBinding: (name, namespace) => rbac.deleteNamespacedRoleBinding({ name, namespace }),
    ClusterRole: (name) => rbac.deleteClusterRole({ name }),
    ClusterRoleBinding: (name) => rbac.deleteClusterRoleBinding({ name }),
  };
  for (const o of await labeledObjects(mount)) await del[o.kind]?.(o.name, o.namespace ?? '').catch(() => undefined);
  for (const l of await storedLeases(table, mount)) {
    await dynamoClient().send(new DeleteItemCommand({ TableName: table, Key: { lease_id: { S: l.lease_id } } }));
  }
}
