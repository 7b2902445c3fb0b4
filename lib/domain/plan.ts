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

/** A deep copy with only the keys that are set. */
export function cloneRule(r: PolicyRule): PolicyRule {
  const out: PolicyRule = { verbs: [...r.verbs] };
  if (r.apiGroups) out.apiGroups = [...r.apiGroups];
  if (r.resources) out.resources = [...r.resources];
  if (r.resourceNames) out.resourceNames = [...r.resourceNames];
  if (r.nonResourceURLs) out.nonResourceURLs = [...r.nonResourceURLs];
  return out;
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

/**
 * What a lease item keeps of its plan: the references of what it owns, in creation order, and
 * the token spec. Labels, annotations, rules and binding targets are not copied into every lease
 * (they come from the role and would let role metadata fill the item): deleting needs only the
 * reference, and every delete is guarded by the lease's own hash (label + uid precondition).
 */
export interface StoredPlan {
  objects: ObjectRef[];
  token: TokenSpec;
}

export const PLAN_KINDS: readonly PlanKind[] = ['Secret', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];
export const CLUSTER_SCOPED_KINDS: readonly PlanKind[] = ['ClusterRole', 'ClusterRoleBinding'];

export const refOf = (o: ObjectRef): ObjectRef => ({ kind: o.kind, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}), name: o.name });

export function toStoredPlan(plan: Plan): StoredPlan {
  const token: TokenSpec = {
    serviceAccount: { ...plan.token.serviceAccount },
    audiences: [...plan.token.audiences],
    expirationSeconds: plan.token.expirationSeconds,
    ...(plan.token.boundSecret ? { boundSecret: plan.token.boundSecret } : {}),
  };
  return { objects: plan.objects.map(refOf), token };
}

/**
 * Does revoking a lease kill its token? Only when the token is bound to something the lease
 * deletes: the anchor Secret (mode 1) or the generated ServiceAccount (modes 2/3).
 */
export const tokenDiesWithLease = (plan: StoredPlan): boolean =>
  plan.token.boundSecret !== undefined || plan.objects.some((o) => o.kind === 'ServiceAccount' && o.name === plan.token.serviceAccount.name);

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
