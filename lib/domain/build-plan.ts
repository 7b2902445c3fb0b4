/**
 * The one place role modes are switched on: (role, request, names) → Plan.
 *
 *   existing_service_account  revocable: anchor Secret <name>; token for the existing SA bound to it
 *                             not revocable: no objects; token for the existing SA
 *   bind_role                 ServiceAccount <name> + RoleBinding (or ClusterRoleBinding) → existing role
 *   generated_role            ServiceAccount <name> + Role/ClusterRole <name> (rules) + binding
 *
 * Objects are listed owners first (ServiceAccount / anchor Secret). Namespaced objects of
 * modes 2/3 other than the ServiceAccount get `ownedByServiceAccount` (garbage collection
 * backstop); cluster-scoped objects cannot be owned by a namespaced object.
 */
import { forbidden, invalid } from './errors.js';
import {
  ANNOTATION_EXPIRES_AT,
  LABEL_INSTALLATION,
  LABEL_LEASE,
  LABEL_MANAGED_BY,
  LABEL_MOUNT,
  LABEL_ROLE,
  MANAGED_BY_VALUE,
} from './labels.js';
import { toLabelValue } from './names.js';
import { roleMode } from './role.js';
import { cloneRule, type Plan, type PlanObject } from './plan.js';
import type { Role } from './types.js';

export interface BuildPlanInput {
  mount: string;
  role: Role;
  namespace: string;
  clusterRoleBinding: boolean;
  /** seconds, already resolved (resolveTtl) */
  ttl: number;
  /** [] = the cluster's default audiences */
  audiences: string[];
  leaseHash: string;
  /** this deployment's installation id (label kubelease.io/installation); undefined before one exists */
  installation?: string;
  /** rendered name_template (renderName): names every generated object */
  generatedName: string;
  expiresAt: Date;
}

/** RFC 3339 in UTC, whole seconds: 2025-01-02T03:04:05Z. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function objectLabels(input: Pick<BuildPlanInput, 'mount' | 'role' | 'leaseHash' | 'installation'>): Record<string, string> {
  return {
    ...input.role.extra_labels,
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_LEASE]: input.leaseHash,
    [LABEL_ROLE]: toLabelValue(input.role.name),
    [LABEL_MOUNT]: input.mount,
    ...(input.installation ? { [LABEL_INSTALLATION]: input.installation } : {}),
  };
}

export function objectAnnotations(input: Pick<BuildPlanInput, 'role' | 'expiresAt'>): Record<string, string> {
  return { ...input.role.extra_annotations, [ANNOTATION_EXPIRES_AT]: rfc3339(input.expiresAt) };
}

/**
 * May this request bind cluster-wide? A ClusterRoleBinding ignores allowed_kubernetes_namespaces,
 * so Vault leaves it to ACL policies; kubelease has none, so the role must say so
 * (allow_cluster_role_binding, off by default). Mode 1 binds nothing and ignores the flag.
 */
export function checkClusterRoleBinding(role: Role, requested: boolean): void {
  if (!requested) return;
  if (role.kubernetes_role_type !== 'ClusterRole') {
    throw invalid(
      `cluster_role_binding: a ClusterRoleBinding needs the role's kubernetes_role_type to be ClusterRole (role ${JSON.stringify(role.name)} has ${role.kubernetes_role_type})`,
    );
  }
  if (roleMode(role) !== 'existing_service_account' && !role.allow_cluster_role_binding) {
    throw forbidden(
      `cluster_role_binding: role ${JSON.stringify(role.name)} does not allow ClusterRoleBindings (allow_cluster_role_binding is false): its ClusterRole can only be bound in the requested namespace`,
    );
  }
}

export function buildPlan(input: BuildPlanInput): Plan {
  const { role, namespace, generatedName: name } = input;
  checkClusterRoleBinding(role, input.clusterRoleBinding);
  const meta = () => ({ labels: objectLabels(input), annotations: objectAnnotations(input) });
  const token = { audiences: [...input.audiences], expirationSeconds: input.ttl };
  const mode = roleMode(role);

  if (mode === 'existing_service_account') {
    // cluster_role_binding has nothing to bind in this mode and is ignored, as in Vault
    const serviceAccount = { namespace, name: role.service_account_name };
    if (!role.revocable) return { objects: [], token: { serviceAccount, ...token } };
    const anchor: PlanObject = { kind: 'Secret', namespace, name, ...meta() };
    return { objects: [anchor], token: { serviceAccount, ...token, boundSecret: name } };
  }

  const sa: PlanObject = { kind: 'ServiceAccount', namespace, name, ...meta() };
  const subject = { namespace, name };
  const objects: PlanObject[] = [sa];
  let roleRef: { kind: 'Role' | 'ClusterRole'; name: string };

  if (mode === 'bind_role') {
    roleRef = { kind: input.clusterRoleBinding ? 'ClusterRole' : role.kubernetes_role_type, name: role.kubernetes_role_name };
  } else {
    if (!role.rules || role.rules.length === 0) {
      throw invalid(`generated_role_rules: role ${JSON.stringify(role.name)} has no parsed rules`);
    }
    const rules = role.rules.map(cloneRule);
    if (role.kubernetes_role_type === 'ClusterRole') {
      objects.push({ kind: 'ClusterRole', name, rules, ...meta() });
      roleRef = { kind: 'ClusterRole', name };
    } else {
      objects.push({ kind: 'Role', namespace, name, rules, ...meta(), ownedByServiceAccount: true });
      roleRef = { kind: 'Role', name };
    }
  }

  if (input.clusterRoleBinding) {
    objects.push({ kind: 'ClusterRoleBinding', name, roleRef, subject, ...meta() });
  } else {
    objects.push({ kind: 'RoleBinding', namespace, name, roleRef, subject, ...meta(), ownedByServiceAccount: true });
  }
  return { objects, token: { serviceAccount: { namespace, name }, ...token } };
}
