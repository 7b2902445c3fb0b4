/**
 * The sweeper at scale (issue 13 §4): `leases` expired mode-3 leases (ServiceAccount, Role,
 * RoleBinding each) swept by the engine's sweep on the real adapters (DynamoDB Local, the
 * apiserver), against raw DELETEs of the same kind and number of objects at the same
 * concurrency, in the same binding → role → ServiceAccount order per lease, timed before and
 * after the sweeper's runs (their mean is the anchor). Every object set is created beforehand
 * with the broker's own labels (outside the timing); the lease items are written in batches.
 * Reported beside it: the machine's CPU by process in the sweep and in the first raw run, and the
 * same sweep on a leases table without its stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lib/adapters/dynamodb/client.js';
import { createTables, localTableNames } from '../../lib/local/tables.js';
import { leaseItem } from '../../lib/adapters/dynamodb/lease-store.js';
import { TABLE_ENV, type TableKey } from '../../lib/tables.js';
import { randomIds } from '../../lib/adapters/random-ids.js';
import { buildPlan, deletionOrder, leaseHash, mergeRole, newLeaseId, toStoredPlan, type Lease, type Plan } from '../../lib/domain/index.js';
import { DEFAULT_SWEEP_CONCURRENCY, sweep, writeConfig, writeRole, type EngineDeps } from '../../lib/engine/index.js';
import { deletePlanObjects } from '../../lib/engine/executor.js';
import { seenIn, type SweepReport } from '../../lib/engine/sweep.js';
import { ClientNodeCluster } from '../../lib/adapters/kubernetes/cluster.js';
import { depsFromEnv } from '../../lib/lambda/runtime.js';
import { LocalSecretBox } from '../../lib/local/secret-box.js';
import type { TestBedInfo } from '../../lib/local/testbed/index.js';
import { bedProcesses, cpuWindow, settleBefore } from './support/machine-cpu.js';
import { closedLoop, ms, type Row } from './support/report.js';
import { rawCreate, rawDelete, rawKube, type RawKube } from './support/raw-kube.js';

/** the sweeper's own default: what the scheduled sweep runs with */
export const SWEEP_CONCURRENCY = DEFAULT_SWEEP_CONCURRENCY;

export interface SweepScaleOptions {
  bed: TestBedInfo;
  leases: number;
  /** leases in flight, for the sweeper and the raw deletes alike */
  concurrency: number;
  print: (line: string) => void;
}

const ADMIN_ARN = 'arn:aws:iam::123456789012:user/bench-admin';
const RULES = JSON.stringify({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] });
/** parallel creates while setting up (not measured) */
const SETUP_CONCURRENCY = 32;

export async function runSweepScaleBench(o: SweepScaleOptions): Promise<Row[]> {
  const started = performance.now();
  const tag = Date.now().toString(36);
  const mount = `sweep-${tag}`;
  const namespace = `kl-sweep-${tag}`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kl-bench-sweep-'));
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(o.bed.admin.kubeconfigPath);
  const core = admin.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const kube = rawKube(o.bed.apiserver.url, o.bed.apiserver.caPem, o.bed.broker.token, SETUP_CONCURRENCY + 8);

  const tables = localTableNames(`bench-${mount}`);
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries((Object.keys(TABLE_ENV) as TableKey[]).map((k) => [TABLE_ENV[k], tables[k]])),
    KUBELEASE_DYNAMODB_ENDPOINT: o.bed.dynamodb.endpoint,
    KUBELEASE_ADMIN_PRINCIPALS: ADMIN_ARN,
  };
  process.env.AWS_REGION ??= o.bed.dynamodb.region;
  process.env.AWS_ACCESS_KEY_ID ??= o.bed.dynamodb.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= o.bed.dynamodb.credentials.secretAccessKey;
  const client = createDocumentClient({ endpoint: o.bed.dynamodb.endpoint, region: o.bed.dynamodb.region, credentials: o.bed.dynamodb.credentials });
  try {
    await createTables(client, tables);
    const secretBox = LocalSecretBox.fromFileOrCreate(path.join(tmp, 'envelope.key'));
    const base = depsFromEnv(env, undefined, { secretBox });
    await writeConfig(base, { mount, caller: { arn: ADMIN_ARN }, body: { kubernetes_host: o.bed.apiserver.url, kubernetes_ca_cert: o.bed.apiserver.caPem, service_account_jwt: o.bed.broker.token } });
    await writeRole(base, { mount, name: 'gen', caller: { arn: ADMIN_ARN }, body: { allowed_kubernetes_namespaces: namespace, generated_role_rules: RULES, allowed_principals: ADMIN_ARN } });
    const installation = (await base.configs.installationId()) ?? '';
    const role = mergeRole('gen', undefined, { allowed_kubernetes_namespaces: namespace, generated_role_rules: RULES, allowed_principals: ADMIN_ARN });
    const issuedAt = Math.floor(Date.now() / 1000);
    // a day ahead in real time, so DynamoDB Local's TTL never removes an item while the bench runs
    // (at 10,000 leases a row takes longer than a lease's TTL: an expiry of issuedAt + 600 let TTL
    // take 20 items of the last sweep's table from under it); the sweeper's clock is past it
    const expiresAt = issuedAt + 86_400;
    const shift = 2 * 86_400_000;
    const makeLeases = (n: number) =>
      Array.from({ length: n }, () => {
        const id = newLeaseId(mount, 'gen', randomIds.random);
        const plan = buildPlan({
          mount,
          role,
          namespace,
          clusterRoleBinding: false,
          ttl: 600,
          audiences: [],
          leaseHash: leaseHash(id),
          installation,
          generatedName: `kl-gen-${randomIds.random(10)}`,
          expiresAt: new Date(expiresAt * 1000),
        });
        return { id, plan };
      });

    // 1. the anchor: raw DELETEs of N leases' objects, once before the sweeper's runs and once
    //    after (below): where a single run sat moved what it read, either way (at 1,000 leases
    //    10.4 s first against 8.1 s last; at 10,000, 94 s first on a fresh bed against 131 s last)
    const procs = bedProcesses(o.bed.dir);
    const setup = { ms: 0, objects: 0 };
    const createAll = async (plans: Plan[]) => {
      setup.ms += await timedCreate(kube, plans);
      setup.objects += plans.reduce((n, p) => n + p.objects.length, 0);
    };
    const rawDeletes = async () => {
      const set = makeLeases(o.leases);
      await createAll(set.map((l) => l.plan));
      // every timed phase starts on a quiet machine, not inside the setup's leftovers
      await settleBefore('the raw deletes', o.print);
      const cpu = spentWindow(procs);
      const { wallMs } = await closedLoop(set.length, o.concurrency, async (i) => {
        for (const group of deletionOrder((set[i] as { plan: Plan }).plan.objects)) await Promise.all(group.map((obj) => rawDelete(kube, obj)));
      });
      return { wallMs, cpu: cpu.end() };
    };
    const rawBefore = await rawDeletes();

    // 2. the sweeper's Kubernetes half alone: the same deletes through the adapter, uids from one
    //    listing, no DynamoDB (what the sweep costs beyond this is its lease items' writes)
    const adapterSet = makeLeases(o.leases);
    await createAll(adapterSet.map((l) => l.plan));
    await settleBefore('the adapter deletes', o.print);
    const adapter = new ClientNodeCluster({ server: o.bed.apiserver.url, caPem: o.bed.apiserver.caPem, token: o.bed.broker.token });
    const adapterRun = await (async () => {
      const t0 = performance.now();
      const seen = seenIn(await adapter.listManaged());
      await closedLoop(adapterSet.length, o.concurrency, async (i) => {
        const { id, plan } = adapterSet[i] as { id: string; plan: Plan };
        await deletePlanObjects(adapter, plan.objects, { leaseHash: leaseHash(id), installation }, seen);
      });
      return performance.now() - t0;
    })();
    await adapter.close();

    // 3. the sweeper over N expired leases of the same shape
    const sweepOver = async (leasesTable: string) => {
      const swept = makeLeases(o.leases);
      await createAll(swept.map((l) => l.plan));
      const items: Lease[] = swept.map(({ id, plan }) => ({
        lease_id: id,
        lease_hash: leaseHash(id),
        mount,
        role: 'gen',
        namespace,
        caller_arn: ADMIN_ARN,
        status: 'active',
        issued_at: issuedAt,
        expires_at: expiresAt,
        plan: toStoredPlan(plan),
        service_account_name: plan.token.serviceAccount.name,
      }));
      await closedLoop(Math.ceil(items.length / 25), 8, async (b) => {
        let pending: Record<string, unknown>[] = items.slice(b * 25, b * 25 + 25).map((l) => ({ PutRequest: { Item: leaseItem(l) } }));
        while (pending.length > 0) {
          const out = await client.send(new BatchWriteCommand({ RequestItems: { [leasesTable]: pending } }));
          pending = (out.UnprocessedItems?.[leasesTable] ?? []) as Record<string, unknown>[];
        }
      });
      const onTable = leasesTable === tables.leases ? base : depsFromEnv({ ...env, [TABLE_ENV.leases]: leasesTable }, undefined, { secretBox });
      const deps: EngineDeps = { ...onTable, clock: { now: () => new Date(Date.now() + shift) } };
      await settleBefore('the sweep', o.print);
      const cpu = spentWindow(procs);
      const t = performance.now();
      const report = await sweep(deps, { deadline: new Date(Date.now() + shift + 30 * 60_000), concurrency: o.concurrency });
      return { report, sweepMs: performance.now() - t, cpu: cpu.end() };
    };
    const { report, sweepMs, cpu: sweepSplit } = await sweepOver(tables.leases);

    // 4. reported, no goal: the same sweep on a leases table created without a stream, which is
    //    what the stream costs DynamoDB Local per delete (its record, with the old image); AWS
    //    bills streams to no writer.
    const quietTable = `${tables.leases}-nostream`;
    await createTables(client, { ...tables, leases: quietTable }, { tables: ['leases'], streams: false });
    const quiet = await sweepOver(quietTable);

    const rawAfter = await rawDeletes();
    const raw = { wallMs: (rawBefore.wallMs + rawAfter.wallMs) / 2 };
    const rawSplit = rawBefore.cpu;

    const objects = o.leases * 3;
    const r = sweepMs / raw.wallMs;
    o.print('');
    o.print(`sweeper at scale: ${o.leases} expired mode-3 leases (${objects} objects), ${o.concurrency} leases in flight (bench row took ${((performance.now() - started) / 1000).toFixed(0)} s; setup created ${setup.objects} objects in ${(setup.ms / 1000).toFixed(0)} s)`);
    // the orphans too: an expired lease's objects that the lease pass left are removed by their expiry
    const outcome = (x: SweepReport) =>
      `${x.expiredLeases} leases ended, ${x.objectsDeleted} objects deleted, ${x.orphansRemoved} orphans removed, ${x.failures.length} failures${x.outOfTime ? ', OUT OF TIME' : ''}`;
    o.print(`  sweep ${ms(sweepMs)} (${((objects * 1000) / sweepMs).toFixed(0)} objects/s): ${outcome(report)}`);
    o.print(
      `  raw DELETEs of the same number of objects ${ms(raw.wallMs)} (mean of ${ms(rawBefore.wallMs)} before the sweeper's runs and ${ms(rawAfter.wallMs)} after; ${((objects * 1000) / raw.wallMs).toFixed(0)} objects/s) → sweep/raw ${r.toFixed(2)}×`,
    );
    o.print(`  its Kubernetes half alone (adapter deletes, uids from one listing, no DynamoDB) ${ms(adapterRun)} → ${(adapterRun / raw.wallMs).toFixed(2)}× raw; the rest is the lease items' writes to DynamoDB Local on the same cores`);
    if (rawSplit && sweepSplit) {
      o.print(`  machine CPU (all ${os.cpus().length} CPUs' busy time): sweep ${sweepSplit}`);
      o.print(`                                     raw   ${rawSplit} (the run before)`);
    }
    const rq = quiet.sweepMs / raw.wallMs;
    o.print(`  the same sweep on a leases table without its stream ${ms(quiet.sweepMs)} → ${rq.toFixed(2)}× raw (${outcome(quiet.report)})${quiet.cpu ? `; machine CPU ${quiet.cpu}` : ''}`);
    for (const x of [report, quiet.report]) if (x.failures.length > 0) o.print(`  first failures: ${x.failures.slice(0, 3).join('; ')}`);
    return [
      {
        measure: `sweep ${o.leases} expired mode-3 leases (${objects} objects)`,
        value: `${ms(sweepMs)}, ${report.objectsDeleted} deleted`,
        anchor: `raw deletes ${ms(raw.wallMs)}`,
        ratio: r,
        goal: '≤ 1.5×',
        holds: r <= 1.5 && report.objectsDeleted === objects,
      },
      {
        measure: 'the same sweep, leases table without its stream',
        value: `${ms(quiet.sweepMs)}, ${quiet.report.objectsDeleted} deleted`,
        anchor: `raw deletes ${ms(raw.wallMs)}`,
        ratio: rq,
        goal: 'report: DynamoDB Local streams',
      },
    ];
  } finally {
    client.destroy();
    kube.close();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Busy CPU of the whole machine over a window, split into this process (the sweeper, or the raw
 * deletes' client), the bed's DynamoDB Local and apiserver + etcd, and the rest; undefined off Linux.
 */
function spentWindow(procs: ReturnType<typeof bedProcesses>): { end: () => string | undefined } {
  const machine = cpuWindow(procs);
  const self = process.cpuUsage();
  return {
    end: () => {
      const spent = machine.end();
      if (!spent) return undefined;
      const own = process.cpuUsage(self);
      const bench = (own.user + own.system) / 1000;
      const s = (v: number) => `${(v / 1000).toFixed(1)} s`;
      const rest = spent.machineMs - bench - spent.dynamodbMs - spent.kubeMs;
      return `${s(spent.machineMs)}: this process ${s(bench)}, DynamoDB Local ${s(spent.dynamodbMs)}, apiserver + etcd ${s(spent.kubeMs)}, rest ${s(rest)}`;
    },
  };
}

/** Creates every plan's objects (owner first, uid in the others' ownerReferences), many plans in parallel; returns ms. */
async function timedCreate(kube: RawKube, plans: Plan[]): Promise<number> {
  const { wallMs } = await closedLoop(plans.length, SETUP_CONCURRENCY, async (i) => {
    const plan = plans[i] as Plan;
    const [sa, ...rest] = plan.objects;
    if (!sa) return;
    const uid = await rawCreate(kube, sa);
    await Promise.all(rest.map((obj) => rawCreate(kube, obj, { name: sa.name, uid })));
  });
  return wallMs;
}
