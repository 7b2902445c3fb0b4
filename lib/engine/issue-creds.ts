import {
  buildPlan,
  checkClusterRoleBinding,
  checkRequestedAudiences,
  chooseNamespace,
  displayNameFromArn,
  invalid,
  leaseHash,
  notFound,
  newLeaseId,
  parseCredsRequest,
  renderName,
  resolveAudiences,
  resolveRoleTtl,
  roleMode,
  toStoredPlan,
  upstream,
  type Lease,
  type PlanObject,
  type Role,
  type RoleMode,
} from '../domain/index.js';
import type { KubeCluster } from '../ports.js';
import type { Caller, EngineDeps } from './deps.js';
import { epochSeconds } from './deps.js';
import { createPlanObjects, deletePlanObjects, PlanExecutionError } from './executor.js';
import { assertMayIssue, loadCluster, loadRoleForCaller } from './lookups.js';
import { assertNamespaceAllowed } from './namespaces.js';

export interface IssuedCreds {
  lease: Lease;
  /** which of the three role modes issued it (metrics) */
  mode: RoleMode;
  leaseDuration: number;
  warnings: string[];
  data: {
    service_account_name: string;
    service_account_namespace: string;
    service_account_token: string;
    /** additive (not in Vault): what a kubeconfig needs; Vault clients ignore unknown fields */
    kubernetes_host: string;
    kubernetes_ca_cert: string;
  };
}

export const NOT_REVOCABLE_WARNING =
  'this role is not revocable (revocable=false): the token stays valid until it expires, even after the lease is revoked';

export async function issueCreds(
  deps: EngineDeps,
  req: { mount: string; roleName: string; caller: Caller; body: unknown },
): Promise<IssuedCreds> {
  const role = await loadRoleForCaller(deps, req.mount, req.roleName, req.caller);
  assertMayIssue(deps, role, req.caller);
  const creds = parseCredsRequest(req.body);
  // guards the role owns (Vault leaves them to ACL policies), before the cluster is touched
  checkClusterRoleBinding(role, creds.cluster_role_binding);
  checkRequestedAudiences(role, creds.audiences);
  const { config, kube } = await loadCluster(deps, req.mount);
  const namespace = chooseNamespace(role, creds.kubernetes_namespace);
  await assertNamespaceAllowed(kube, role, namespace);
  const { ttl, warnings } = resolveRoleTtl(creds.ttl, role);
  const audiences = resolveAudiences(creds.audiences, role);
  await assertReferencedObjectsExist(kube, role, namespace);

  const installation = await deps.configs.installationId();
  const now = deps.clock.now();
  const leaseId = newLeaseId(req.mount, role.name, deps.ids.random);
  const hash = leaseHash(leaseId);
  const generatedName = renderName(
    role.name_template,
    { RoleName: role.name, Mount: req.mount, DisplayName: displayNameFromArn(req.caller.arn), Namespace: namespace, now },
    deps.ids.random,
  );
  const plan = buildPlan({
    mount: req.mount,
    role,
    namespace,
    clusterRoleBinding: creds.cluster_role_binding,
    ttl,
    audiences,
    leaseHash: hash,
    ...(installation ? { installation } : {}),
    generatedName,
    expiresAt: new Date(now.getTime() + ttl * 1000),
  });
  const lease: Lease = {
    lease_id: leaseId,
    lease_hash: hash,
    mount: config.mount,
    role: role.name,
    namespace,
    caller_arn: req.caller.arn,
    status: 'pending',
    issued_at: epochSeconds(now),
    expires_at: epochSeconds(now) + deps.settings.pendingGraceSeconds,
    plan: toStoredPlan(plan),
    service_account_name: plan.token.serviceAccount.name,
  };
  await deps.leases.create(lease);

  let token;
  try {
    const result = await createPlanObjects(kube, plan);
    if (plan.token.boundSecret && !result.anchorSecret) throw upstream('anchor Secret was not created');
    token = await kube.requestToken({
      namespace: plan.token.serviceAccount.namespace,
      serviceAccount: plan.token.serviceAccount.name,
      audiences: plan.token.audiences,
      expirationSeconds: plan.token.expirationSeconds,
      ...(result.anchorSecret ? { boundSecret: result.anchorSecret } : {}),
    });
  } catch (err) {
    // Only what this attempt created (all of the plan once createPlanObjects returned): an
    // AlreadyExists must never cost the existing object.
    await rollback(deps, kube, lease, err instanceof PlanExecutionError ? err.created : plan.objects);
    throw await failureOf(deps, req.mount, err instanceof PlanExecutionError ? err.cause : err);
  }

  const expiresAt = epochSeconds(token.expiresAt);
  const activated = await deps.leases.transition(leaseId, ['pending'], { status: 'active', expires_at: expiresAt });
  if (!activated) {
    // The sweeper or TTL took the pending record; the token must not outlive its lease.
    await rollback(deps, kube, lease, plan.objects);
    throw await failureOf(deps, req.mount, upstream('the lease was expired while the token was being issued; try again'));
  }
  // A config delete that listed the mount's leases before this one was written cannot have
  // revoked it; it lists them once more after deleting the config (deleteConfig), so a lease is
  // either seen there or sees the config gone here. Must stay a consistent read (no cache).
  if (!(await deps.configs.exists(req.mount))) {
    await rollback(deps, kube, lease, plan.objects);
    throw mountDeleted(req.mount);
  }
  const allWarnings = [...warnings];
  if (roleMode(role) === 'existing_service_account' && !role.revocable) allWarnings.push(NOT_REVOCABLE_WARNING);
  return {
    lease: { ...lease, status: 'active', expires_at: expiresAt },
    mode: roleMode(role),
    leaseDuration: Math.max(0, expiresAt - epochSeconds(deps.clock.now())),
    warnings: allWarnings,
    data: {
      service_account_name: plan.token.serviceAccount.name,
      service_account_namespace: plan.token.serviceAccount.namespace,
      service_account_token: token.token,
      kubernetes_host: config.kubernetes_host,
      kubernetes_ca_cert: config.kubernetes_ca_cert,
    },
  };
}

const mountDeleted = (mount: string) => notFound(`mount "${mount}" was deleted while the token was being issued`);

/**
 * Why an issuance failed, for the caller: when an admin deleted the mount meanwhile (its forced
 * delete revoked this pending lease, so a later step found its objects gone), say that rather
 * than what the missing objects broke.
 */
async function failureOf(deps: EngineDeps, mount: string, err: unknown): Promise<unknown> {
  try {
    return (await deps.configs.exists(mount)) ? err : mountDeleted(mount);
  } catch {
    return err;
  }
}

async function rollback(deps: EngineDeps, kube: KubeCluster, lease: Lease, created: readonly PlanObject[]): Promise<void> {
  try {
    await deletePlanObjects(kube, created, { leaseHash: lease.lease_hash });
    await deps.leases.delete(lease.lease_id);
  } catch {
    // Leave the pending record and labels: TTL → expire or the sweeper finish the job.
  }
}

async function assertReferencedObjectsExist(kube: KubeCluster, role: Role, namespace: string): Promise<void> {
  const mode = roleMode(role);
  if (mode === 'existing_service_account' && !(await kube.serviceAccountExists(namespace, role.service_account_name))) {
    throw invalid(
      `service_account_name: ServiceAccount "${role.service_account_name}" does not exist in namespace "${namespace}"`,
    );
  }
  if (mode === 'bind_role') {
    const kind = role.kubernetes_role_type;
    const exists = await kube.roleExists(kind, role.kubernetes_role_name, kind === 'Role' ? namespace : undefined);
    if (!exists) {
      const where = kind === 'Role' ? ` in namespace "${namespace}"` : '';
      throw invalid(`kubernetes_role_name: ${kind} "${role.kubernetes_role_name}" does not exist${where}`);
    }
  }
}
