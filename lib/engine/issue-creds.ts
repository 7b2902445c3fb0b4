import {
  buildPlan,
  checkClusterRoleBinding,
  checkRequestedAudiences,
  chooseNamespace,
  displayNameFromArn,
  invalid,
  isKubeleaseError,
  leaseHash,
  namespaceAllowed,
  needsNamespaceLabels,
  notFound,
  newLeaseId,
  parseCredsRequest,
  renderName,
  resolveAudiences,
  resolveRoleTtl,
  roleMode,
  toStoredPlan,
  upstream,
  type KubeleaseError,
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
  // a namespace allowed by name needs no read: a missing one is the create's 404 (see fieldOf)
  if (needsNamespaceLabels(role, namespace)) await assertNamespaceAllowed(kube, role, namespace);
  else namespaceAllowed(role, namespace, undefined);
  const { ttl, warnings } = resolveRoleTtl(creds.ttl, role);
  const audiences = resolveAudiences(creds.audiences, role);
  // a binding to a missing role would be created without complaint: the one pre-check no create answers
  await assertBoundRoleExists(kube, role, namespace);

  const installation = await deps.configs.installationId();
  const now = deps.clock.now();
  const leaseId = newLeaseId(req.mount, role.name, deps.ids.random);
  const hash = leaseHash(leaseId);
  const generatedName = renderName(
    role.name_template,
    { RoleName: role.name, Mount: req.mount, DisplayName: displayNameFromArn(req.caller.arn), Namespace: namespace, now },
    deps.ids.random,
  );
  const expiresAt = new Date(now.getTime() + ttl * 1000);
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
    expiresAt,
  });
  // Written once, with its final expiry, while the objects are created: every object is covered
  // by a lease that ends (revoke, TTL → expire, sweep), and no token exists before the item does.
  // A crash mid-way leaves an incomplete lease the sweeper ends after pendingGraceSeconds (sweep.ts).
  const lease: Lease = {
    lease_id: leaseId,
    lease_hash: hash,
    mount: config.mount,
    role: role.name,
    namespace,
    caller_arn: req.caller.arn,
    status: 'active',
    issued_at: epochSeconds(now),
    expires_at: epochSeconds(expiresAt),
    plan: toStoredPlan(plan),
    service_account_name: plan.token.serviceAccount.name,
  };

  let token;
  let leaseWritten = false;
  let rechecking = false;
  try {
    const [written, created] = await Promise.allSettled([deps.leases.create(lease), createPlanObjects(kube, plan)]);
    leaseWritten = written.status === 'fulfilled';
    if (created.status === 'rejected') throw created.reason;
    if (written.status === 'rejected') throw new PlanExecutionError(written.reason, plan.objects);
    const result = created.value;
    if (plan.token.boundSecret && !result.anchorSecret) throw upstream('anchor Secret was not created');
    token = await kube.requestToken({
      namespace: plan.token.serviceAccount.namespace,
      serviceAccount: plan.token.serviceAccount.name,
      audiences: plan.token.audiences,
      expirationSeconds: plan.token.expirationSeconds,
      ...(result.anchorSecret ? { boundSecret: result.anchorSecret } : {}),
    });
    rechecking = true;
    await assertStillIssuable(deps, leaseId, req.mount);
  } catch (err) {
    // Only what this attempt created (all of the plan once createPlanObjects returned): an
    // AlreadyExists must never cost the existing object.
    // Why, read before the rollback deletes the lease item: a revoke meanwhile explains the
    // failure. The recheck already read both (or could not): its error is the reason.
    const cause = fieldOf(err instanceof PlanExecutionError ? err.cause : err, role, namespace);
    const why = rechecking ? err : await failureOf(deps, req.mount, leaseWritten ? leaseId : undefined, cause);
    await rollback(deps, kube, lease, err instanceof PlanExecutionError ? err.created : plan.objects);
    throw why;
  }

  // The caller's lease is the token's real expiry. The apiserver may cap it
  // (--service-account-max-token-expiration): the stored lease follows the token. A second or two
  // off the one asked for (a second boundary between the two clocks' reads) needs no second write.
  const leaseExpiry = epochSeconds(token.expiresAt);
  if (Math.abs(leaseExpiry - lease.expires_at) > EXPIRY_SLACK_SECONDS) {
    if (!(await deps.leases.transition(leaseId, ['active'], { expires_at: leaseExpiry }))) {
      const why = await failureOf(deps, req.mount, undefined, leaseEnded());
      await rollback(deps, kube, lease, plan.objects);
      throw why;
    }
  }
  const allWarnings = [...warnings];
  if (roleMode(role) === 'existing_service_account' && !role.revocable) allWarnings.push(NOT_REVOCABLE_WARNING);
  return {
    lease: { ...lease, expires_at: leaseExpiry },
    mode: roleMode(role),
    leaseDuration: Math.max(0, leaseExpiry - epochSeconds(deps.clock.now())),
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
// as before the one-write path: an upstream failure (502) the caller may retry
const leaseEnded = () => upstream('the lease was revoked or ended while the token was being issued; no token was issued; try again');

/**
 * Why an issuance failed, for the caller: when an admin deleted the mount meanwhile (its forced
 * delete revoked this lease, so a later step found its objects gone), or revoked the lease, say
 * that rather than what the missing objects broke. `leaseId`: the lease item was written.
 */
async function failureOf(deps: EngineDeps, mount: string, leaseId: string | undefined, err: unknown): Promise<unknown> {
  try {
    return (await endedMeanwhile(deps, mount, leaseId)) ?? err;
  } catch {
    return err;
  }
}

/** mountDeleted or leaseEnded when that happened meanwhile (consistent reads); undefined while both stand */
async function endedMeanwhile(deps: EngineDeps, mount: string, leaseId: string | undefined): Promise<KubeleaseError | undefined> {
  const [mountLive, current] = await Promise.all([deps.configs.exists(mount), leaseId ? deps.leases.get(leaseId) : undefined]);
  if (!mountLive) return mountDeleted(mount);
  if (leaseId && current?.status !== 'active') return leaseEnded();
  return undefined;
}

async function rollback(deps: EngineDeps, kube: KubeCluster, lease: Lease, created: readonly PlanObject[]): Promise<void> {
  try {
    await deletePlanObjects(kube, created, { leaseHash: lease.lease_hash });
    await deps.leases.delete(lease.lease_id);
  } catch {
    // Leave the pending record and labels: TTL → expire or the sweeper finish the job.
  }
}

/**
 * A revoke (or a forced mount delete, or the sweeper) may end the lease while its objects are
 * still being created: objects created after its deletes would outlive it, and the token with
 * them. endLease marks the lease `revoking` before it deletes anything, so a lease still active
 * here has those deletes still to come, after every object exists. Reads only (consistent): the
 * normal path keeps its one write. The config read must not be cached either: a config delete
 * that listed the mount's leases before this one was written lists them once more after deleting
 * the config (deleteConfig), so a lease is either seen there or sees the config gone here.
 */
async function assertStillIssuable(deps: EngineDeps, leaseId: string, mount: string): Promise<void> {
  const ended = await endedMeanwhile(deps, mount, leaseId);
  if (ended) throw ended;
}

/** seconds the apiserver's expiry may differ from the one asked for (its clock, rounding) before the lease follows it */
const EXPIRY_SLACK_SECONDS = 2;

async function assertBoundRoleExists(kube: KubeCluster, role: Role, namespace: string): Promise<void> {
  if (roleMode(role) !== 'bind_role') return;
  const kind = role.kubernetes_role_type;
  const exists = await kube.roleExists(kind, role.kubernetes_role_name, kind === 'Role' ? namespace : undefined);
  if (!exists) {
    const where = kind === 'Role' ? ` in namespace "${namespace}"` : '';
    throw invalid(`kubernetes_role_name: ${kind} "${role.kubernetes_role_name}" does not exist${where}`);
  }
}

/**
 * The create and TokenRequest calls answer what pre-checks used to ask: a missing namespace or
 * ServiceAccount comes back as the adapter's `invalid`; the caller gets the same 400, naming the
 * request or role field.
 */
function fieldOf(err: unknown, role: Role, namespace: string): unknown {
  if (!isKubeleaseError(err) || err.kind !== 'invalid') return err;
  const message = err.errors.join('; ');
  if (message === `namespace "${namespace}" does not exist in the cluster`) return invalid(`kubernetes_namespace: ${message}`);
  if (roleMode(role) === 'existing_service_account' && message === `service account "${role.service_account_name}" does not exist in namespace "${namespace}"`) {
    return invalid(`service_account_name: ServiceAccount "${role.service_account_name}" does not exist in namespace "${namespace}"`);
  }
  return err;
}
