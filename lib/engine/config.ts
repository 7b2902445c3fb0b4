import { configReadView, conflict, mergeConfig, notFound, validateMount, type ClusterConfig, type Lease } from '../domain/index.js';
import type { Caller, EngineDeps } from './deps.js';
import { forEachBounded } from './bounded.js';
import { endLease } from './leases.js';
import { assertAdmin, loadConfig } from './lookups.js';

export async function writeConfig(deps: EngineDeps, req: { mount: string; caller: Caller; body: unknown }) {
  assertAdmin(deps, req.caller, 'write config');
  validateMount(req.mount);
  const existing = await deps.configs.get(req.mount);
  const config = mergeConfig(req.mount, existing, req.body);
  if (existing && clusterOf(existing) !== clusterOf(config)) {
    // Live leases' objects sit in the old cluster: revoke and expiry must still reach them.
    const live = await deps.leases.listByMount(req.mount);
    if (live.length > 0) {
      throw conflict(
        `kubernetes_host: mount "${req.mount}" has ${live.length} live lease(s) on the current cluster; revoke them before pointing it at another cluster`,
      );
    }
  }
  await deps.configs.put(config);
  await ensureInstallation(deps);
  return configReadView(config);
}

/** One id per deployment, created with the first config (the config function may write that table). */
export const ensureInstallation = (deps: EngineDeps): Promise<string> =>
  deps.configs.ensureInstallationId(() => deps.ids.random(INSTALLATION_ID_LENGTH));
export const INSTALLATION_ID_LENGTH = 16;

export async function readConfig(deps: EngineDeps, req: { mount: string; caller: Caller }) {
  assertAdmin(deps, req.caller, 'read config');
  return configReadView(await loadConfig(deps, req.mount));
}

/** Refused while leases are live: deleting the connection would strand their objects. */
export async function deleteConfig(deps: EngineDeps, req: { mount: string; caller: Caller; force: boolean }) {
  assertAdmin(deps, req.caller, 'delete config');
  const config = await deps.configs.get(req.mount);
  if (!config) throw notFound(`mount "${req.mount}" is not configured`);
  const live = await deps.leases.listByMount(req.mount);
  if (live.length > 0 && !req.force) {
    throw conflict(
      `mount "${req.mount}" has ${live.length} live lease(s): revoke them first or delete with ?force=true, which revokes them`,
    );
  }
  const kube = await deps.kube.forCluster(config);
  const revokeAll = (leases: Lease[]) => forEachBounded(leases, 8, () => true, async (lease) => void (await endLease(deps, kube, lease)));
  await revokeAll(live);
  // The mount is decommissioned: its roles must not come back if the name is reused later.
  await deps.roles.deleteAll(req.mount);
  await deps.configs.delete(req.mount);
  // An issuance that wrote its lease after the listing above, and checked the config before it
  // was deleted (issueCreds), is only found now: without this its lease would be stranded on a
  // mount that no longer exists, out of reach of revoke, expiry and the sweeper.
  const late = await deps.leases.listByMount(req.mount);
  await revokeAll(late);
  return { revoked: live.length + late.length };
}

/** Which cluster a config targets (credentials may rotate freely, the target may not). */
const clusterOf = (c: ClusterConfig) =>
  c.auth.kind === 'eks' ? `${c.kubernetes_host}|eks:${c.auth.eks_region}/${c.auth.eks_cluster_name}` : c.kubernetes_host;

export async function listMounts(deps: EngineDeps, req: { caller: Caller }) {
  assertAdmin(deps, req.caller, 'list mounts');
  return { keys: (await deps.configs.list()).sort(), installation_id: await ensureInstallation(deps) };
}
