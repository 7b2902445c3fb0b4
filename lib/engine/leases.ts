import { notFound, rfc3339, roleArnOfSession, tokenDiesWithLease, type Lease, type LeaseRequest } from '../domain/index.js';
import type { KubeCluster } from '../ports.js';
import type { Caller, EngineDeps } from './deps.js';
import { epochSeconds } from './deps.js';
import { deletePlanObjects, type SeenLookup } from './executor.js';
import { isAdmin, loadConfig, mountExists } from './lookups.js';

/** Assumed-role sessions of one role are one owner: CI jobs get a new session name each run. */
export const ownerOf = (arn: string): string => roleArnOfSession(arn) ?? arn;

const mayManage = (deps: EngineDeps, caller: Caller, lease: Lease) =>
  isAdmin(deps, caller) || ownerOf(lease.caller_arn) === ownerOf(caller.arn);

/** `leaseId` is well-formed (parseLeaseRequest). */
async function loadOwnedLease(deps: EngineDeps, leaseId: string, caller: Caller): Promise<Lease> {
  const lease = await deps.leases.get(leaseId);
  // Same answer for "absent" and "not yours": lease ids of others are not probed this way.
  if (!lease || !mayManage(deps, caller, lease)) throw notFound(`lease_id: lease "${leaseId}" not found`);
  return lease;
}

export interface LeaseView {
  id: string;
  issue_time: string;
  expire_time: string;
  ttl: number;
  renewable: false;
  role: string;
  namespace: string;
  service_account_name: string;
  caller: string;
  status: string;
}

export function leaseView(lease: Lease, now: Date): LeaseView {
  return {
    id: lease.lease_id,
    issue_time: new Date(lease.issued_at * 1000).toISOString(),
    expire_time: new Date(lease.expires_at * 1000).toISOString(),
    ttl: Math.max(0, lease.expires_at - epochSeconds(now)),
    renewable: false,
    role: lease.role,
    namespace: lease.namespace,
    service_account_name: lease.service_account_name,
    caller: lease.caller_arn,
    status: lease.status,
  };
}

export async function lookupLease(deps: EngineDeps, req: LeaseRequest, caller: Caller): Promise<LeaseView> {
  const lease = await loadOwnedLease(deps, req.lease_id, caller);
  return leaseView(lease, deps.clock.now());
}

export interface Revoked {
  deleted: number;
  /** set when revoking cannot kill the token (nothing it is bound to is deleted) */
  warnings: string[];
}

export async function revokeLease(deps: EngineDeps, req: LeaseRequest, caller: Caller): Promise<Revoked> {
  const lease = await loadOwnedLease(deps, req.lease_id, caller);
  const config = await loadConfig(deps, lease.mount);
  const { deleted } = await endLease(deps, await deps.kube.forCluster(config), lease);
  return { deleted, warnings: tokenDiesWithLease(lease.plan) ? [] : [notRevocableWarning(lease)] };
}

export const notRevocableWarning = (lease: Lease): string =>
  `the token of this lease is not revocable (role "${lease.role}" has revocable=false): it stays valid until it expires at ${rfc3339(new Date(lease.expires_at * 1000))}`;

/**
 * Deletes a lease's objects, then its item. Idempotent and race-safe: revoke, the stream
 * consumer and the sweeper may all run it; conditional writes make only one delete the item.
 */
export async function endLease(deps: EngineDeps, kube: KubeCluster, lease: Lease, seen?: SeenLookup): Promise<{ deleted: number }> {
  const mark = () => deps.leases.transition(lease.lease_id, ['pending', 'active'], { status: 'revoking' });
  const removeObjects = () => deletePlanObjects(kube, lease.plan.objects, { leaseHash: lease.lease_hash }, seen);
  let deleted;
  if (lease.expires_at > epochSeconds(deps.clock.now())) {
    // An issuance may still be creating this lease's objects: it reads the lease after its
    // TokenRequest and withdraws everything unless the lease is still active (issue-creds.ts).
    // Marked first, so a lease it still sees active has these deletes still to come.
    await mark();
    deleted = await removeObjects();
  } else {
    // expired: no issuance is running for it, so the mark and the deletes go at the same time
    const [marked, removed] = await Promise.allSettled([mark(), removeObjects()]);
    if (removed.status === 'rejected') throw removed.reason;
    if (marked.status === 'rejected') throw marked.reason;
    deleted = removed.value;
  }
  await deps.leases.delete(lease.lease_id);
  return { deleted: deleted.length };
}

/** Stream path: the item is already gone (TTL), only the objects remain. */
export async function expireLease(deps: EngineDeps, lease: Lease): Promise<{ deleted: number }> {
  const config = await deps.configs.get(lease.mount);
  if (!config) return { deleted: 0 }; // mount removed: its objects are the sweeper's orphans now
  const kube = await deps.kube.forCluster(config);
  const deleted = await deletePlanObjects(kube, lease.plan.objects, { leaseHash: lease.lease_hash });
  return { deleted: deleted.length };
}

export async function listLeases(
  deps: EngineDeps,
  req: { mount: string; role?: string; caller: Caller; warnings?: string[] },
): Promise<{ keys: string[]; key_info: Record<string, LeaseView> }> {
  const admin = isAdmin(deps, req.caller);
  // non-admins see an unknown mount like a known one where they own nothing: no mount oracle
  if (!(await mountExists(deps, req.mount, admin))) return { keys: [], key_info: {} };
  // an item broken in the console does not hide the mount's other leases; admins are told of it
  const onUnreadable = (item: { lease_id: string }, problems: string[]) => {
    if (admin) req.warnings?.push(`lease ${item.lease_id} is unreadable and was left out: ${problems.join('; ')}`);
  };
  const all = await deps.leases.listByMount(req.mount, { ...(req.role ? { role: req.role } : {}), onUnreadable });
  const visible = all.filter((l) => admin || ownerOf(l.caller_arn) === ownerOf(req.caller.arn));
  const now = deps.clock.now();
  const sorted = visible.sort((a, b) => a.lease_id.localeCompare(b.lease_id));
  return {
    keys: sorted.map((l) => l.lease_id),
    key_info: Object.fromEntries(sorted.map((l) => [l.lease_id, leaseView(l, now)])),
  };
}

