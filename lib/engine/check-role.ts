import { chooseNamespace, roleMode, type Role } from '../domain/index.js';
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
}

export async function checkRole(
  deps: EngineDeps,
  req: { mount: string; name: string; caller: Caller; body: unknown },
): Promise<RoleCheck> {
  assertAdmin(deps, req.caller, 'check roles');
  const role = await loadRole(deps, req.mount, req.name);
  const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const requested = typeof body.kubernetes_namespace === 'string' ? body.kubernetes_namespace : undefined;
  const namespace =
    requested ?? (role.allowed_kubernetes_namespaces.find((n) => n !== '*') ?? chooseNamespace(role, requested));
  const { kube } = await loadCluster(deps, req.mount);
  const checks = await kube.canI(requiredPermissions(role, namespace, body.cluster_role_binding === true));
  const missing = checks
    .filter((c) => !c.allowed)
    .map((c) => {
      const res = c.subresource ? `${c.resource}/${c.subresource}` : c.resource;
      const where = c.namespace ? ` in namespace "${c.namespace}"` : ' cluster-wide';
      return `the broker lacks "${c.verb}" on ${c.group ? `${res}.${c.group}` : res}${where}`;
    });
  return { namespace, ok: missing.length === 0, missing, checks };
}
