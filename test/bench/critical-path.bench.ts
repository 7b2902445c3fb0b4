/**
 * Issue 13's first three rows, on the local stack (`npm start`'s broker, in a child process)
 * against the bed's apiserver, requests signed in this process on kept-alive connections:
 *  - mode 3 (generated role) issue, sequential p50 vs the same four API calls made one after
 *    another (ServiceAccount, Role, RoleBinding, TokenRequest);
 *  - mode 1 (existing ServiceAccount, anchor Secret) issue p50 vs one Secret create + one
 *    TokenRequest bound to it;
 *  - `concurrency` requests in flight, `total` mode-3 issues: throughput and latency vs the raw
 *    issuance (the same objects and calls, the same concurrency, run before and after the
 *    broker's); the broker's CPU per issue.
 * Anchors run interleaved with the broker's requests, so both see the same machine.
 */
import { buildPlan, leaseHash, mergeRole, newLeaseId, type Plan } from '../../lib/domain/index.js';
import { randomIds } from '../../lib/adapters/random-ids.js';
import { DEMO_ROLES } from '../../lib/local/stack.js';
import { localTableNames } from '../../lib/local/tables.js';
import type { TestBedInfo } from '../../lib/local/testbed/index.js';
import { bedProcesses, cpuWindow, settleBefore, type CpuSpent } from './support/machine-cpu.js';
import { closedLoop, median, ms, paced, percentile, timed, type Row } from './support/report.js';
import { designFloor } from './support/design-floor.js';
import { naiveIssue, rawDelete, rawKube, type RawKube } from './support/raw-kube.js';
import { signedClient, type SignedClient } from './support/signed-client.js';
import { startStackProcess, type StackProcess } from './support/stack-process.js';
import type { WaitSplit } from './support/wait-split.js';

export interface CriticalPathOptions {
  bed: TestBedInfo;
  bedFile: string;
  /** sequential rounds per mode */
  rounds: number;
  /** untimed rounds first, per mode and anchor */
  warmup: number;
  concurrency: number;
  total: number;
  /** a V8 CPU profile (`node --cpu-prof`) of the stack process goes here */
  cpuProfDir?: string;
  print: (line: string) => void;
}

export interface CriticalPathResult {
  rows: Row[];
  /** broker CPU per issue under load (ms), for the profile summary */
  cpuPerIssueMs: number;
  /** the load window on the stack's monotonic clock (µs), to cut a CPU profile to it */
  loadWindowUs: [number, number];
  /** the source map of the stack's bundle (for the profile) */
  sourceMap: string;
}

const NAMESPACE = 'default';

export async function runCriticalPathBench(o: CriticalPathOptions): Promise<CriticalPathResult> {
  const mount = `bench-${Date.now().toString(36)}`;
  const stack = await startStackProcess({ bedFile: o.bedFile, mount, ...(o.cpuProfDir ? { cpuProfDir: o.cpuProfDir } : {}) });
  const client = signedClient(stack.url, o.concurrency + 8);
  const kube = rawKube(o.bed.apiserver.url, o.bed.apiserver.caPem, o.bed.broker.token, o.concurrency + 8);
  const floor = designFloor(o.bed, kube, localTableNames(stack.tablePrefix), mount);
  const leases: string[] = [];
  const rawPlans: Plan[] = [];
  try {
    const mounts = await client.send<{ data: { installation_id: string } }>(stack.admin, 'GET', '/v1/mounts?list=true');
    const installation = mounts.body.data.installation_id;
    const generatedRole = mergeRole('demo-generated', undefined, DEMO_ROLES['demo-generated']);
    const anchorRole = mergeRole('demo-existing-sa', undefined, DEMO_ROLES['demo-existing-sa']);
    /** the plan the broker would build for this role, with fresh names: the anchor creates exactly these objects */
    const planFor = (role: typeof generatedRole): Plan => {
      const id = newLeaseId(mount, role.name, randomIds.random);
      const plan = buildPlan({
        mount,
        role,
        namespace: NAMESPACE,
        clusterRoleBinding: false,
        ttl: 3600,
        audiences: [],
        leaseHash: leaseHash(id),
        installation,
        generatedName: `kl-${role.name}-${randomIds.random(10)}`,
        expiresAt: new Date(Date.now() + 3600_000),
      });
      rawPlans.push(plan);
      return plan;
    };
    /**
     * A creds request the handler refuses before any call (a bad ttl; the role comes from the warm
     * cache): the broker's fixed cost. On a role the rows do not use, so their wait splits stay theirs.
     */
    const refused = async () => {
      const res = await client.send(stack.ci, 'POST', `/v1/${mount}/creds/demo-bind-role`, { kubernetes_namespace: NAMESPACE, ttl: 'soon' });
      if (res.status !== 400) throw new Error(`a bad ttl answered ${res.status}: ${JSON.stringify(res.body)}`);
    };
    const issue = async (role: string) => {
      const res = await client.send<{ lease_id: string; errors?: string[] }>(stack.ci, 'POST', `/v1/${mount}/creds/${role}`, { kubernetes_namespace: NAMESPACE });
      if (res.status !== 200) throw new Error(`creds/${role} answered ${res.status}: ${JSON.stringify(res.body)}`);
      leases.push(res.body.lease_id);
    };

    // warm-up: connections, caches, JIT (DynamoDB Local's JVM too: after 5 rounds its share of a
    // sequential issue was twice what it is after 100)
    for (let i = 0; i < o.warmup; i++) {
      await issue('demo-generated');
      await issue('demo-existing-sa');
      await naiveIssue(kube, planFor(generatedRole));
      await naiveIssue(kube, planFor(anchorRole));
      await floor.issue(planFor(generatedRole));
      await floor.issue(planFor(anchorRole));
      await refused();
    }

    await stack.record();
    const m3: number[] = [];
    const m3raw: number[] = [];
    const m1: number[] = [];
    const m1raw: number[] = [];
    const m3floor: number[] = [];
    const m1floor: number[] = [];
    const m3bare: number[] = [];
    const m1bare: number[] = [];
    const fixed: number[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const steps = [
        async () => m3.push(await timed(() => issue('demo-generated'))),
        async () => m3raw.push(await timed(() => naiveIssue(kube, planFor(generatedRole)))),
        async () => m1.push(await timed(() => issue('demo-existing-sa'))),
        async () => m1raw.push(await timed(() => naiveIssue(kube, planFor(anchorRole)))),
        async () => m3floor.push(await timed(() => floor.issue(planFor(generatedRole)))),
        async () => m1floor.push(await timed(() => floor.issue(planFor(anchorRole)))),
        async () => m3bare.push(await timed(() => floor.issue(planFor(generatedRole), { reread: false }))),
        async () => m1bare.push(await timed(() => floor.issue(planFor(anchorRole), { reread: false }))),
        async () => fixed.push(await timed(refused)),
      ];
      // alternate the order so neither side always runs right after the other
      for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step();
    }
    const splits = await stack.splits();
    await cleanUp(client, stack, kube, leases, rawPlans);

    const procs = bedProcesses(o.bed.dir);
    // The raw issuance runs before and after the broker's (the anchor is both): where a single
    // run sat moved what it read, either way. Each load window starts on a quiet machine: the
    // other's leftovers (garbage collection of what it created, etcd compaction) are not billed to it.
    const rawLoad = async () => {
      await settleBefore('the raw load run', o.print);
      const cpu = cpuWindow(procs);
      const run = await closedLoop(o.total, o.concurrency, () => naiveIssue(kube, planFor(generatedRole)));
      return { ...run, spent: cpu.end() };
    };
    const rate = (r: { wallMs: number }) => (o.total * 1000) / r.wallMs;
    const rawBefore = await rawLoad();
    await settleBefore("the design floor's load run", o.print);
    const floorLoad = await closedLoop(o.total, o.concurrency, () => floor.issue(planFor(generatedRole)));
    await cleanUp(client, stack, kube, leases, rawPlans);
    await settleBefore("the design floor's load run without the re-read", o.print);
    const bareLoad = await closedLoop(o.total, o.concurrency, () => floor.issue(planFor(generatedRole), { reread: false }));
    await cleanUp(client, stack, kube, leases, rawPlans);
    await settleBefore("the broker's load run", o.print);
    const before = await stack.cpu();
    const brokerCpu = cpuWindow(procs);
    const broker = await closedLoop(o.total, o.concurrency, () => issue('demo-generated'));
    const brokerSpent = brokerCpu.end();
    const after = await stack.cpu();
    // the same raw calls at the broker's rate: what apiserver + etcd spend per issue at that rate
    // (their idle work and etcd's batching spread over fewer issues), apart from what the broker asks
    await settleBefore('the raw run at the broker\'s rate', o.print);
    const rawPacedCpu = cpuWindow(procs);
    await paced(o.total, rate(broker), () => naiveIssue(kube, planFor(generatedRole)));
    const rawPacedSpent = rawPacedCpu.end();
    const rawAfter = await rawLoad();
    await cleanUp(client, stack, kube, leases, rawPlans);
    const raw = { wallMs: (rawBefore.wallMs + rawAfter.wallMs) / 2, latencies: [...rawBefore.latencies, ...rawAfter.latencies] };
    const rawSpent = rawBefore.spent && rawAfter.spent ? meanSpent(rawBefore.spent, rawAfter.spent) : undefined;

    const cpuPerIssueMs = (after.cpuUs - before.cpuUs) / 1000 / o.total;
    const p = (xs: number[], q: number) => percentile(xs, q);
    o.print('');
    o.print(`issuance through the local stack (HTTP, SigV4, handlers, DynamoDB Local) vs raw apiserver calls, ${o.rounds} sequential rounds after ${o.warmup} untimed, then ${o.total} issues with ${o.concurrency} in flight`);
    o.print(`  mode 3 sequential   p50 ${ms(median(m3))} (p90 ${ms(p(m3, 90))})   naive 4 calls p50 ${ms(median(m3raw))} (p90 ${ms(p(m3raw, 90))})`);
    o.print(`  mode 1 sequential   p50 ${ms(median(m1))} (p90 ${ms(p(m1, 90))})   Secret + bound TokenRequest p50 ${ms(median(m1raw))} (p90 ${ms(p(m1raw, 90))})`);
    o.print(
      `  under load          broker ${rate(broker).toFixed(0)}/s, p50 ${ms(median(broker.latencies))}, p99 ${ms(p(broker.latencies, 99))}   raw ${rate(raw).toFixed(0)}/s over both runs (${rate(rawBefore).toFixed(0)}/s before the broker's run, ${rate(rawAfter).toFixed(0)}/s after), p50 ${ms(median(raw.latencies))}, p99 ${ms(p(raw.latencies, 99))}`,
    );
    o.print(
      `  design floor        the broker's DynamoDB and apiserver calls in its order, no broker (support/design-floor.ts): mode 3 p50 ${ms(median(m3floor))} = ${(median(m3floor) / median(m3raw)).toFixed(2)}× its anchor, ` +
        `mode 1 p50 ${ms(median(m1floor))} = ${(median(m1floor) / median(m1raw)).toFixed(2)}×, under load ${rate(floorLoad).toFixed(0)}/s = ${(rate(floorLoad) / rate(raw)).toFixed(2)}× raw`,
    );
    o.print(
      `  floor, no re-read   the same without the re-read after the TokenRequest (docs/api.md, step 5): mode 3 p50 ${ms(median(m3bare))} = ${(median(m3bare) / median(m3raw)).toFixed(2)}× its anchor, ` +
        `mode 1 p50 ${ms(median(m1bare))} = ${(median(m1bare) / median(m1raw)).toFixed(2)}×, under load ${rate(bareLoad).toFixed(0)}/s = ${(rate(bareLoad) / rate(raw)).toFixed(2)}× raw`,
    );
    o.print(
      `  fixed cost          a creds request refused before any call (ingress, SigV4, handler, the answer): p50 ${ms(median(fixed))}; ` +
        `floor + it: mode 3 ${ms(median(m3floor) + median(fixed))} = ${((median(m3floor) + median(fixed)) / median(m3raw)).toFixed(2)}× its anchor, mode 1 ${ms(median(m1floor) + median(fixed))} = ${((median(m1floor) + median(fixed)) / median(m1raw)).toFixed(2)}×`,
    );
    o.print(`  broker CPU per issue under load: ${cpuPerIssueMs.toFixed(1)} ms (user + system of the stack process)`);

    const machine = rawSpent && brokerSpent ? machineRow(rawSpent, brokerSpent, o.total, cpuPerIssueMs) : undefined;
    if (machine) o.print(`  machine CPU per issue under load: ${machine.value}; raw ${machine.anchor}`);
    const atRate = brokerSpent && rawPacedSpent ? atBrokerRateRow(brokerSpent.kubeMs / o.total, rawPacedSpent.kubeMs / o.total, rate(broker)) : undefined;
    if (atRate) o.print(`  apiserver + etcd CPU per issue: ${atRate.value} in the broker's run; ${atRate.anchor}`);
    o.print('  where a sequential issue waited (medians; "own" = no call in flight: SigV4, handlers, serialization, waiting for a CPU):');
    for (const [label, role, mine, anchor] of [['mode 3', 'demo-generated', m3, median(m3raw)], ['mode 1', 'demo-existing-sa', m1, median(m1raw)]] as const) {
      const mineRecorded = splits.filter((r) => r.path.endsWith(`/creds/${role}`));
      const recorded = mineRecorded.map((r) => r.split);
      if (recorded.length === 0) continue;
      const at = (f: (x: WaitSplit) => number) => median(recorded.map(f));
      const end = (k: 'lead' | 'tail') => median(mineRecorded.map((r) => r.ends[k]));
      // the client's p50 (as in the row), less the stack's median DynamoDB-only time
      const withoutDynamo = median(mine) - at((x) => x.dynamodbOnly);
      o.print(
        `    ${label}: apiserver only ${ms(at((x) => x.kubeOnly))}, DynamoDB only ${ms(at((x) => x.dynamodbOnly))}, both ${ms(at((x) => x.both))}, own ${ms(at((x) => x.neither))} (${ms(end('lead'))} before the first call, ${ms(end('tail'))} after the last); ` +
          `p50 less the DynamoDB-only time ${ms(withoutDynamo)} = ${(withoutDynamo / anchor).toFixed(2)}× its anchor`,
      );
    }

    const r3 = median(m3) / median(m3raw);
    const r1 = median(m1) / median(m1raw);
    const rl = rate(broker) / rate(raw);
    return {
      cpuPerIssueMs,
      sourceMap: stack.sourceMap,
      loadWindowUs: [before.hrtimeUs, after.hrtimeUs],
      rows: [
        { measure: 'mode 3 issue, sequential, p50', value: ms(median(m3)), anchor: `4 naive calls ${ms(median(m3raw))}`, ratio: r3, goal: '≤ 1.2×', holds: r3 <= 1.2 },
        { measure: 'mode 1 issue, sequential, p50', value: ms(median(m1)), anchor: `Secret + bound TokenRequest ${ms(median(m1raw))}`, ratio: r1, goal: '≤ 1.6×', holds: r1 <= 1.6 },
        {
          measure: `${o.concurrency} in flight, ${o.total} mode-3 issues`,
          value: `${rate(broker).toFixed(0)}/s, p50 ${ms(median(broker.latencies))}, p99 ${ms(p(broker.latencies, 99))}`,
          anchor: `raw ${rate(raw).toFixed(0)}/s, p50 ${ms(median(raw.latencies))}`,
          ratio: rl,
          goal: '≥ 0.7× raw throughput',
          holds: rl >= 0.7,
        },
        floorRow('mode 3', median(m3floor), median(m3raw), median(m3), '1.2'),
        floorRow('mode 1', median(m1floor), median(m1raw), median(m1), '1.6'),
        {
          measure: 'design floor, under load',
          value: `${rate(floorLoad).toFixed(0)}/s, p50 ${ms(median(floorLoad.latencies))}; broker ${(rate(broker) / rate(floorLoad)).toFixed(2)}× of it`,
          anchor: `raw ${rate(raw).toFixed(0)}/s`,
          ratio: rate(floorLoad) / rate(raw),
          goal: 'report: the best the ≥ 0.7× row can read',
        },
        bareFloorRow('mode 3', median(m3bare), median(m3raw)),
        bareFloorRow('mode 1', median(m1bare), median(m1raw)),
        {
          measure: 'design floor without the re-read, under load',
          value: `${rate(bareLoad).toFixed(0)}/s, p50 ${ms(median(bareLoad.latencies))}`,
          anchor: `raw ${rate(raw).toFixed(0)}/s`,
          ratio: rate(bareLoad) / rate(raw),
          goal: 'report: the floor if docs/api.md step 5 went',
        },
        { measure: 'broker CPU per mode-3 issue, under load', value: `${cpuPerIssueMs.toFixed(1)} ms`, anchor: '—', goal: 'report (issue 13 §2)' },
        ...(machine ? [machine] : []),
        ...(atRate ? [atRate] : []),
      ],
    };
  } finally {
    await floor.cleanUp().catch(() => undefined);
    floor.close();
    client.close();
    kube.close();
    await stack.stop();
  }
}

/** the design floor's sequential p50 against the row's anchor: the least the row's ratio can be */
const floorRow = (mode: string, floorMs: number, anchorMs: number, brokerMs: number, goal: string): Row => ({
  measure: `design floor, ${mode} sequential p50`,
  value: `${ms(floorMs)}; broker ${(brokerMs / floorMs).toFixed(2)}× of it`,
  anchor: ms(anchorMs),
  ratio: floorMs / anchorMs,
  goal: `report: the least the ≤ ${goal}× row can read`,
});

/** the floor without its re-read: what giving up "a revoke landing while the token is requested wins" would buy */
const bareFloorRow = (mode: string, bareMs: number, anchorMs: number): Row => ({
  measure: `design floor without the re-read, ${mode} p50`,
  value: ms(bareMs),
  anchor: ms(anchorMs),
  ratio: bareMs / anchorMs,
  goal: 'report: the floor if docs/api.md step 5 went',
});

/** apiserver + etcd CPU per issue in the broker's load run against the raw calls paced at the broker's rate */
const atBrokerRateRow = (brokerMs: number, rawMs: number, perSecond: number): Row => ({
  measure: "apiserver + etcd CPU per issue at the broker's rate",
  value: `${brokerMs.toFixed(1)} ms`,
  anchor: `raw paced at ${perSecond.toFixed(0)}/s ${rawMs.toFixed(1)} ms`,
  ratio: brokerMs / rawMs,
  goal: 'report: the same calls cost the apiserver this much at this rate',
});

const meanSpent = (a: CpuSpent, b: CpuSpent): CpuSpent => ({
  machineMs: (a.machineMs + b.machineMs) / 2,
  kubeMs: (a.kubeMs + b.kubeMs) / 2,
  dynamodbMs: (a.dynamodbMs + b.dynamodbMs) / 2,
});

/**
 * All CPUs' busy time per issue in the two load runs, split by process. Both runs keep the CPUs
 * busy, so the throughput ratio is about raw ÷ broker machine CPU per issue: the row shows how
 * much of the broker's share each part takes.
 */
function machineRow(raw: CpuSpent, broker: CpuSpent, issues: number, stackMs: number): Row {
  const f = (v: number) => (v / issues).toFixed(1);
  const restMs = broker.machineMs - stackMs * issues - broker.dynamodbMs - broker.kubeMs;
  return {
    measure: 'machine CPU per mode-3 issue, under load',
    value: `${f(broker.machineMs)} ms: stack ${stackMs.toFixed(1)}, DynamoDB Local ${f(broker.dynamodbMs)}, apiserver + etcd ${f(broker.kubeMs)}, rest ${f(restMs)}`,
    anchor: `${f(raw.machineMs)} ms: apiserver + etcd ${f(raw.kubeMs)}, rest ${f(raw.machineMs - raw.kubeMs)}`,
    ratio: broker.machineMs / raw.machineMs,
    goal: 'report: the load row ≈ 1 ÷ this',
  };
}

/** Revokes the broker's leases and deletes the anchors' objects, outside any timing. */
async function cleanUp(client: SignedClient, stack: StackProcess, kube: RawKube, leases: string[], plans: Plan[]): Promise<void> {
  const ids = leases.splice(0);
  await closedLoop(ids.length, 8, async (i) => {
    const res = await client.send(stack.admin, 'PUT', '/v1/sys/leases/revoke', { lease_id: ids[i] });
    if (res.status >= 300) throw new Error(`revoke answered ${res.status}: ${JSON.stringify(res.body)}`);
  });
  const objects = plans.splice(0).flatMap((p) => [...p.objects].reverse());
  await closedLoop(objects.length, 8, (i) => rawDelete(kube, objects[i] as Plan['objects'][number]));
}
