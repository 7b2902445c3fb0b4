import { checkClusterRoleBinding, chooseNamespace, KubeleaseError, parseCredsRequest, roleMode, type Role } from '../domain/index.js';
import type { AccessCheck } from '../ports.js';
import type { Caller, EngineDeps } from './deps.js';
import { assertAdmin, loadCluster, loadRole } from './lookups.js';

type Need = Omit<AccessCheck, 'allowed' | 'reason'>;

const rbac = 'rbac.authorization.k8s.io';

/** What the broker identity must be allowed to do to serve this role in one namespace. */
export function requiredPermissions(role: Role, namespace: string, clusterRoleBinding: boolean): Need[] {
  const ns = (verb: string, resource: string, group = '', subresource?: string): Need => ({
    namespace,
    verb,
    group,
    resource,
    ...(subresource ? { subresource } : {}),
  });
  const cluster = (verb: string, resource: string): Need => ({ verb, group: rbac, resource });
  const mode = roleMode(role);
  const token = ns('create', 'serviceaccounts', '', 'token');
  if (mode === 'existing_service_account') {
    return role.revocable ? [token, ns('create', 'secrets'), ns('delete', 'secrets')] : [token];
  }
  const needs = [ns('create', 'serviceaccounts'), ns('delete', 'serviceaccounts'), token];
  needs.push(...(clusterRoleBinding
    ? [cluster('create', 'clusterrolebindings'), cluster('delete', 'clusterrolebindings')]
    : [ns('create', 'rolebindings', rbac), ns('delete', 'rolebindings', rbac)]));
  const roleIsCluster = role.kubernetes_role_type === 'ClusterRole';
  if (mode === 'bind_role') {
    needs.push(roleIsCluster ? cluster('bind', 'clusterroles') : ns('bind', 'roles', rbac));
  } else {
    needs.push(
      ...(roleIsCluster
        ? [cluster('create', 'clusterroles'), cluster('delete', 'clusterroles'), cluster('escalate', 'clusterroles'), cluster('bind', 'clusterroles')]
        : [ns('create', 'roles', rbac), ns('delete', 'roles', rbac), ns('escalate', 'roles', rbac), ns('bind', 'roles', rbac)]),
    );
  }
  return needs;
}

export interface RoleCheck {
  namespace: string;
  ok: boolean;
  missing: string[];
  checks: AccessCheck[];
  /** whether callers may widen this role to a ClusterRoleBinding */
  allow_cluster_role_binding: boolean;
  /** what the role lets callers do beyond its namespaces, or would refuse them */
  notes: string[];
}

export async function checkRole(
  deps: EngineDeps,
  req: { mount: string; name: string; caller: Caller; body: unknown },
): Promise<RoleCheck> {
  assertAdmin(deps, req.caller, 'check roles');
  const role = await loadRole(deps, req.mount, req.name);
  const creds = parseCredsRequest(req.body);
  const requested = creds.kubernetes_namespace;
  const namespace =
    requested ?? (role.allowed_kubernetes_namespaces.find((n) => n !== '*') ?? chooseNamespace(role, requested));
  const notes = clusterRoleBindingNotes(role, creds.cluster_role_binding);
  const refused = notes.some((n) => n.startsWith('cluster_role_binding:'));
  const { kube } = await loadCluster(deps, req.mount);
  const checks = await kube.canI(requiredPermissions(role, namespace, creds.cluster_role_binding && !refused));
  const missing = checks
    .filter((c) => !c.allowed)
    .map((c) => {
      const res = c.subresource ? `${c.resource}/${c.subresource}` : c.resource;
      const where = c.namespace ? ` in namespace "${c.namespace}"` : ' cluster-wide';
      return `the broker lacks "${c.verb}" on ${c.group ? `${res}.${c.group}` : res}${where}`;
    });
  return { namespace, ok: missing.length === 0 && !refused, missing, checks, allow_cluster_role_binding: role.allow_cluster_role_binding, notes };
}

function clusterRoleBindingNotes(role: Role, requested: boolean): string[] {
  const notes: string[] = [];
  if (requested) {
    try {
      checkClusterRoleBinding(role, true);
    } catch (e) {
      if (!(e instanceof KubeleaseError)) throw e;
      notes.push(`${e.message}; creds requests asking for one get ${e.status}`);
    }
  }
  if (role.allow_cluster_role_binding) {
    const what = roleMode(role) === 'bind_role' ? `ClusterRole "${role.kubernetes_role_name}"` : 'the generated ClusterRole';
    notes.push(
      `allow_cluster_role_binding is true: callers may bind ${what} cluster-wide with cluster_role_binding=true, in every namespace, whatever allowed_kubernetes_namespaces says`,
    );
  }
  return notes;
}
