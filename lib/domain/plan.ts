/**
 * A plan is the list of Kubernetes objects one lease owns. The same value drives creation,
 * rollback, revoke, expire and sweep, and is stored on the lease item (DESIGN.md, "plan").
 */
export type PlanKind = 'Secret' | 'ServiceAccount' | 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

export interface ObjectRef {
  kind: PlanKind;
  /** absent for cluster-scoped kinds */
  namespace?: string;
  name: string;
}

export interface PlanObject extends ObjectRef {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Role / ClusterRole */
  rules?: PolicyRule[];
  /** RoleBinding / ClusterRoleBinding */
  roleRef?: { kind: 'Role' | 'ClusterRole'; name: string };
  subject?: { namespace: string; name: string };
  /** namespaced objects get an ownerReference to the generated ServiceAccount */
  ownedByServiceAccount?: boolean;
}

export interface TokenSpec {
  serviceAccount: { namespace: string; name: string };
  audiences: string[];
  expirationSeconds: number;
  /** name of the anchor Secret the token is bound to (mode 1, revocable roles) */
  boundSecret?: string;
}

export interface Plan {
  /** objects to create, in creation order groups: owners (ServiceAccount / anchor Secret) first */
  objects: PlanObject[];
  token: TokenSpec;
}

/** Deletion order: anchor Secret first (kills a bound token), then bindings, roles, ServiceAccount. */
export const deleteRank: Record<PlanKind, number> = {
  Secret: 0,
  RoleBinding: 1,
  ClusterRoleBinding: 1,
  Role: 2,
  ClusterRole: 2,
  ServiceAccount: 3,
};

export function deletionOrder<T extends ObjectRef>(objects: readonly T[]): T[][] {
  const groups = new Map<number, T[]>();
  for (const o of objects) {
    const rank = deleteRank[o.kind];
    groups.set(rank, [...(groups.get(rank) ?? []), o]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, g]) => g);
}
