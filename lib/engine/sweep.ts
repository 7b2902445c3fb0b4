import pLimit from 'p-limit';
import { ANNOTATION_EXPIRES_AT, LABEL_INSTALLATION, LABEL_LEASE, LABEL_MOUNT, type Lease } from '../domain/index.js';
import type { KubeCluster, LeaseQuery, ManagedListing, ManagedObject } from '../ports.js';
import type { EngineDeps } from './deps.js';
import { epochSeconds } from './deps.js';
import { deletePlanObjects, type SeenLookup } from './executor.js';
import { forEachBounded } from './bounded.js';
import { endLease } from './leases.js';

/** leases (and orphans) handled at once */
export const DEFAULT_SWEEP_CONCURRENCY = 8;

export interface SweepReport {
  mounts: number;
  expiredLeases: number;
  /** revokes a fault or a crash cut short (lease left `revoking`), finished by this run */
  revokesFinished: number;
  /** objects of expired leases this run deleted (404s excluded) */
  objectsDeleted: number;
  orphansRemoved: number;
  /** leases an issuance left without all their objects (it died mid-way), ended early */
  incompleteLeases: number;
  /** active leases whose expiry lies ahead, over all mounts swept */
  liveLeases: number;
  /** how late (seconds past expires_at) the most overdue lease this run ended was */
  maxExpiryLagSeconds: number;
  failures: string[];
  outOfTime: boolean;
}

/**
 * Per cluster, one listing of the managed objects, then: leases whose expiry passed but whose
 * item lingers (DynamoDB TTL runs late), revokes cut short, then orphans: labeled objects whose
 * expires-at passed or whose lease item is gone. Only this installation's objects are judged by
 * their lease (see isOrphan). Deletes of listed objects send the uid the listing saw as their
 * precondition instead of reading each object first (one call per object at scale, not two).
 */
export async function sweep(deps: EngineDeps, opts: { deadline: Date; concurrency?: number }): Promise<SweepReport> {
  const report: SweepReport = {
    mounts: 0,
    expiredLeases: 0,
    revokesFinished: 0,
    objectsDeleted: 0,
    orphansRemoved: 0,
    incompleteLeases: 0,
    liveLeases: 0,
    maxExpiryLagSeconds: 0,
    failures: [],
    outOfTime: false,
  };
  const limit = opts.concurrency ?? DEFAULT_SWEEP_CONCURRENCY;
  const timeLeft = () => deps.clock.now().getTime() < opts.deadline.getTime();
  // unreadable (edited in the console): expired leases are still ended, but without knowing its
  // own installation the sweeper judges no object by its lease (isOrphan), only by its expiry
  const installation = await deps.configs.installationId().catch((err: unknown) => {
    report.failures.push(`installation id: ${describe(err)}; orphans are judged by expiry only`);
    return undefined;
  });
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
      // an item broken in the console is reported once per run and left alone, never guessed at
      const unreadable = new Map<string, { hash?: string; problems: string[] }>();
      const onUnreadable = (item: { lease_id: string; lease_hash?: string }, problems: string[]) =>
        unreadable.set(item.lease_id, { ...(item.lease_hash ? { hash: item.lease_hash } : {}), problems });
      const listing = await kube.listManaged();
      const seen = seenIn(listing);
      /** leases this run ended: their listed objects are gone, not orphans */
      const ended = new Set<string>();
      const expired = await deps.leases.listByMount(mount, { expiredBefore: now, onUnreadable });
      await endExpired(deps, kube, expired, { seen, ended, now }, report, limit, timeLeft);
      await finishRevokes(deps, kube, { mount, seen, ended }, new Set(expired.map((l) => l.lease_id)), onUnreadable, report, limit, timeLeft);
      await removeOrphans(deps, kube, { mount, installation, onUnreadable, unreadable, listing, seen, ended }, report, limit, timeLeft);
      for (const [leaseId, { problems }] of unreadable) report.failures.push(`${leaseId}: unreadable lease item, left alone: ${problems.join('; ')}`);
    } catch (err) {
      report.failures.push(`${mount}: ${describe(err)}`);
    }
  }
  if (!timeLeft()) report.outOfTime = true;
  return report;
}

/**
 * Expired leases: no issuance runs for them and their token is dead or dying, so unlike a revoke
 * there is nothing to mark first (one write per lease saved). Each lease's objects are deleted
 * in its slot; its item is deleted once they are gone, off the slot (bounded the same), so the
 * next lease's deletes do not wait for DynamoDB. A run cut short leaves the item: the next one
 * finds the lease again, its objects already absent.
 */
async function endExpired(
  deps: EngineDeps,
  kube: KubeCluster,
  expired: Lease[],
  { seen, ended, now }: { seen: SeenLookup; ended: Set<string>; now: number },
  report: SweepReport,
  limit: number,
  timeLeft: () => boolean,
): Promise<void> {
  const itemDeletes = pLimit(limit);
  const pending: Promise<void>[] = [];
  await forEachBounded(expired, limit, timeLeft, async (lease) => {
    try {
      const deleted = await deletePlanObjects(kube, lease.plan.objects, { leaseHash: lease.lease_hash }, seen);
      ended.add(lease.lease_hash);
      // read the result first: `report.x += await …` would add to a stale value (lost updates)
      report.objectsDeleted += deleted.length;
      pending.push(
        itemDeletes(async () => {
          try {
            await deps.leases.delete(lease.lease_id);
            report.expiredLeases++;
            report.maxExpiryLagSeconds = Math.max(report.maxExpiryLagSeconds, now - lease.expires_at);
          } catch (err) {
            report.failures.push(`${lease.lease_id}: ${describe(err)}`);
          }
        }),
      );
    } catch (err) {
      report.failures.push(`${lease.lease_id}: ${describe(err)}`);
    }
  });
  await Promise.all(pending);
}

const objectKey = (o: { kind: string; namespace?: string; name: string }) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;

/** what the listing saw of each object, by kind, namespace and name */
export function seenIn(listing: readonly ManagedObject[]): SeenLookup {
  const byKey = new Map(listing.map((o) => [objectKey(o), o]));
  return (ref) => {
    const o = byKey.get(objectKey(ref));
    return o?.uid ? { uid: o.uid, labels: o.labels } : undefined;
  };
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
  { mount, seen, ended }: { mount: string; seen: SeenLookup; ended: Set<string> },
  done: Set<string>,
  onUnreadable: NonNullable<LeaseQuery['onUnreadable']>,
  report: SweepReport,
  limit: number,
  timeLeft: () => boolean,
): Promise<void> {
  const interrupted = (await deps.leases.listByMount(mount, { onUnreadable })).filter((l) => l.status === 'revoking' && !done.has(l.lease_id));
  await forEachBounded(interrupted, limit, timeLeft, async (lease) => {
    try {
      const { deleted } = await endLease(deps, kube, lease, seen);
      ended.add(lease.lease_hash);
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
  scope: {
    mount: string;
    installation: string | undefined;
    onUnreadable: NonNullable<LeaseQuery['onUnreadable']>;
    /** unreadable items by lease id: their objects may be live, so they are not orphans */
    unreadable: Map<string, { hash?: string }>;
    /** taken before the leases below were read: an object listed with a lease read later is that lease's */
    listing: ManagedListing;
    seen: SeenLookup;
    ended: Set<string>;
  },
  report: SweepReport,
  limit: number,
  timeLeft: () => boolean,
): Promise<void> {
  const now = epochSeconds(deps.clock.now());
  const { listing, seen } = scope;
  const objects = listing.filter((o) => (o.labels[LABEL_MOUNT] ?? scope.mount) === scope.mount && !scope.ended.has(o.labels[LABEL_LEASE] ?? ''));
  const live = new Map<string, Lease>();
  for (const lease of await deps.leases.listByMount(scope.mount, { onUnreadable: scope.onUnreadable })) live.set(lease.lease_hash, lease);
  const unreadableHashes = new Set([...scope.unreadable.values()].map((u) => u.hash));
  report.liveLeases += [...live.values()].filter((l) => l.status === 'active' && l.expires_at > now).length;
  const judge = { live, now, graceSeconds: deps.settings.orphanGraceSeconds, installation: scope.installation };
  const orphans = objects.filter((o) => !unreadableHashes.has(o.labels[LABEL_LEASE]) && isOrphan(o, judge));
  const incomplete = incompleteLeases([...live.values()], objects, { now, graceSeconds: deps.settings.pendingGraceSeconds, unlisted: listing.skippedKinds ?? [] });
  await forEachBounded(incomplete, limit, timeLeft, async (lease) => {
    try {
      const { deleted } = await endLease(deps, kube, lease, seen);
      report.objectsDeleted += deleted;
      report.incompleteLeases++;
    } catch (err) {
      report.failures.push(`${lease.lease_id}: ${describe(err)}`);
    }
  });
  await forEachBounded(orphans, limit, timeLeft, async (o) => {
    try {
      const guard = { leaseHash: o.labels[LABEL_LEASE] ?? '', ...(scope.installation ? { installation: scope.installation } : {}) };
      const deleted = await deletePlanObjects(kube, [o], guard, seen);
      report.orphansRemoved += deleted.length;
    } catch (err) {
      report.failures.push(`${o.kind} ${o.namespace ?? ''}/${o.name}: ${describe(err)}`);
    }
  });
}

/**
 * Leases written by an issuance that died before all their objects existed: the item is written
 * once, with its final expiry, beside the first create (issue-creds.ts), so a crash leaves a live
 * lease with part of its plan. Past `graceSeconds` after issue (no issuance runs that long) the
 * sweeper ends them rather than waiting for their expiry. Kinds the listing skipped (the broker
 * may not list secrets) count as present.
 */
export function incompleteLeases(
  leases: readonly Lease[],
  listed: readonly ManagedObject[],
  o: { now: number; graceSeconds: number; unlisted: readonly string[] },
): Lease[] {
  const present = new Set(listed.map((m) => `${m.labels[LABEL_LEASE] ?? ''}#${objectKey(m)}`));
  return leases.filter(
    (lease) =>
      lease.issued_at + o.graceSeconds < o.now &&
      lease.plan.objects.some((ref) => !o.unlisted.includes(ref.kind) && !present.has(`${lease.lease_hash}#${objectKey(ref)}`)),
  );
}

export interface OrphanJudge {
  /** live leases of the mount, by lease hash */
  live: Map<string, Lease>;
  /** epoch seconds */
  now: number;
  graceSeconds: number;
  /** this deployment's installation id (undefined before one exists) */
  installation: string | undefined;
}

/**
 * An object is an orphan only if it carries a lease label (item 11) and is not another
 * installation's. Then:
 * - its expires-at passed (plus the grace): its token is dead whoever issued it, so deleting it
 *   is safe even for an object from before the installation label;
 * - or it carries this installation's label, is older than the grace (issue in flight) and its
 *   lease item is gone.
 * An object without an installation label whose lease this deployment does not know may be
 * another deployment's live lease (both created before the label existed): it waits for its
 * expiry. Those of this deployment's own live leases are deleted through the lease's plan.
 */
export function isOrphan(o: ManagedObject, judge: OrphanJudge): boolean {
  const hash = o.labels[LABEL_LEASE];
  if (!hash) return false;
  const owner = o.labels[LABEL_INSTALLATION];
  if (owner !== undefined && owner !== judge.installation) return false;
  const expiresAt = Date.parse(o.annotations[ANNOTATION_EXPIRES_AT] ?? '');
  if (Number.isFinite(expiresAt) && Math.floor(expiresAt / 1000) + judge.graceSeconds < judge.now) return true;
  if (owner === undefined) return false;
  const oldEnough = o.createdAt === undefined || epochSeconds(o.createdAt) + judge.graceSeconds < judge.now;
  return oldEnough && !judge.live.has(hash);
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
