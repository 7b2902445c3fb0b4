import { ANNOTATION_EXPIRES_AT, LABEL_LEASE, type Lease } from '../domain/index.js';
import type { KubeCluster, ManagedObject } from '../ports.js';
import type { EngineDeps } from './deps.js';
import { epochSeconds } from './deps.js';
import { deletePlanObjects } from './executor.js';
import { forEachBounded } from './bounded.js';
import { endLease } from './leases.js';

export interface SweepReport {
  mounts: number;
  expiredLeases: number;
  /** revokes a fault or a crash cut short (lease left `revoking`), finished by this run */
  revokesFinished: number;
  /** objects of expired leases this run deleted (404s excluded) */
  objectsDeleted: number;
  orphansRemoved: number;
  /** active leases whose expiry lies ahead, over all mounts swept */
  liveLeases: number;
  /** how late (seconds past expires_at) the most overdue lease this run ended was */
  maxExpiryLagSeconds: number;
  failures: string[];
  outOfTime: boolean;
}

/**
 * Two passes per cluster: leases whose expiry passed but whose item lingers (DynamoDB TTL runs
 * late), then labeled objects whose expires-at passed or whose lease item is gone.
 */
export async function sweep(deps: EngineDeps, opts: { deadline: Date; concurrency?: number }): Promise<SweepReport> {
  const report: SweepReport = {
    mounts: 0,
    expiredLeases: 0,
    revokesFinished: 0,
    objectsDeleted: 0,
    orphansRemoved: 0,
    liveLeases: 0,
    maxExpiryLagSeconds: 0,
    failures: [],
    outOfTime: false,
  };
  const limit = opts.concurrency ?? 8;
  const timeLeft = () => deps.clock.now().getTime() < opts.deadline.getTime();
  for (const mount of await deps.configs.list()) {
    if (!timeLeft()) {
      report.outOfTime = true;
      break;
    }
    report.mounts++;
    try {
      const config = await deps.configs.get(mount);
      if (!config) continue;
      const kube = await deps.kube.forCluster(config);
      const now = epochSeconds(deps.clock.now());
      const expired = await deps.leases.listByMount(mount, { expiredBefore: now });
      await forEachBounded(expired, limit, timeLeft, async (lease) => {
        try {
          report.objectsDeleted += (await endLease(deps, kube, lease)).deleted;
          report.expiredLeases++;
          report.maxExpiryLagSeconds = Math.max(report.maxExpiryLagSeconds, now - lease.expires_at);
        } catch (err) {
          report.failures.push(`${lease.lease_id}: ${describe(err)}`);
        }
      });
      await finishRevokes(deps, kube, mount, new Set(expired.map((l) => l.lease_id)), report, limit, timeLeft);
      await removeOrphans(deps, kube, mount, report, limit, timeLeft);
    } catch (err) {
      report.failures.push(`${mount}: ${describe(err)}`);
    }
  }
  if (!timeLeft()) report.outOfTime = true;
  return report;
}

/**
 * A lease is `revoking` from the moment a revoke (or an expiry) starts until its item is deleted:
 * one still in that state after the pass above was cut short by a fault or a crash. Its owner
 * asked for the token to die, so it is finished now rather than when the lease would expire.
 * endLease is idempotent: a revoke still in flight and this run both get a clean result.
 */
async function finishRevokes(
  deps: EngineDeps,
  kube: KubeCluster,
  mount: string,
  done: Set<string>,
  report: SweepReport,
  limit: number,
  timeLeft: () => boolean,
): Promise<void> {
  const interrupted = (await deps.leases.listByMount(mount)).filter((l) => l.status === 'revoking' && !done.has(l.lease_id));
  await forEachBounded(interrupted, limit, timeLeft, async (lease) => {
    try {
      const { deleted } = await endLease(deps, kube, lease);
      report.objectsDeleted += deleted;
      report.revokesFinished++;
    } catch (err) {
      report.failures.push(`${lease.lease_id}: ${describe(err)}`);
    }
  });
}

async function removeOrphans(
  deps: EngineDeps,
  kube: KubeCluster,
  mount: string,
  report: SweepReport,
  limit: number,
  timeLeft: () => boolean,
): Promise<void> {
  const now = epochSeconds(deps.clock.now());
  const objects = (await kube.listManaged()).filter((o) => (o.labels['kubelease.io/mount'] ?? mount) === mount);
  const live = new Map<string, Lease>();
  for (const lease of await deps.leases.listByMount(mount)) live.set(lease.lease_hash, lease);
  report.liveLeases += [...live.values()].filter((l) => l.status === 'active' && l.expires_at > now).length;
  const orphans = objects.filter((o) => isOrphan(o, live, now, deps.settings.orphanGraceSeconds));
  await forEachBounded(orphans, limit, timeLeft, async (o) => {
    try {
      report.orphansRemoved += (await deletePlanObjects(kube, [o])).length;
    } catch (err) {
      report.failures.push(`${o.kind} ${o.namespace ?? ''}/${o.name}: ${describe(err)}`);
    }
  });
}

export function isOrphan(o: ManagedObject, live: Map<string, Lease>, now: number, graceSeconds: number): boolean {
  const expiresAt = Date.parse(o.annotations[ANNOTATION_EXPIRES_AT] ?? '');
  const expired = Number.isFinite(expiresAt) && Math.floor(expiresAt / 1000) + graceSeconds < now;
  const hash = o.labels[LABEL_LEASE];
  const leaseGone = hash !== undefined && !live.has(hash);
  const oldEnough = o.createdAt === undefined || epochSeconds(o.createdAt) + graceSeconds < now;
  return expired || (leaseGone && oldEnough);
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
