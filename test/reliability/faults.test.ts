/**
 * Item 1 of issue 14: a fault at every call position of issue (three modes), revoke, expire and
 * sweep, on the apiserver side and the DynamoDB side, of every kind the proxy knows. For each
 * case: the caller gets a clear answer (success, or 502/503/504 naming the request id, no stack),
 * retries are bounded; after each kind's batch one clean sweep leaves 0 labeled objects without
 * their live lease, 0 active leases without their objects and nothing pending or revoking.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { isKubeleaseError } from '../../lib/domain/errors.js';
import { depsFromEnv } from '../../lib/lambda/runtime.js';
import { dynamoClient } from '../support/bed.js';
import { localKeyBox, startFaultyBroker, type FaultyBroker, type Reply } from '../support/reliability/broker.js';
import { collector } from '../support/reliability/collector.js';
import type { Fault, FaultProxy, ProxiedCall } from '../support/reliability/fault-proxy.js';
import { noViolations } from '../support/reliability/invariants.js';
import { recordSummary } from '../support/reliability/summary.js';

const T = 600_000;
let b: FaultyBroker;

beforeAll(async () => {
  b = await startFaultyBroker();
}, 120_000);
afterAll(() => b?.close());

type Side = 'kube' | 'ddb';
interface Position {
  side: Side;
  signature: string;
  /** occurrence of this signature within the flow */
  nth: number;
}

interface Outcome {
  /** 'ok' or a violation message */
  verdict: string;
  /** the work was done despite the fault (a retry absorbed it, or it did not matter) */
  succeeded: boolean;
}

interface Flow {
  name: string;
  /** no person waits on it (stream consumer, scheduled sweep) */
  background?: boolean;
  /** arranges what the flow needs, without faults; returns the input of run */
  prepare: () => Promise<unknown>;
  run: (input: unknown) => Promise<Outcome>;
}

const stackTrace = /\n\s+at |\.ts:\d+|node_modules|Error: /;

/** A caller's answer under a fault: success, or a 502/503/504 that names its request id, no internals. */
function judgeReply(res: Reply, success: number): string {
  if (res.status === success) return 'ok';
  if (![502, 503, 504].includes(res.status)) return `status ${res.status}: ${res.text.slice(0, 200)}`;
  if (!Array.isArray(res.body.errors) || res.body.errors.length === 0) return `status ${res.status} without errors[]`;
  if (stackTrace.test(res.text)) return `status ${res.status} with a stack trace`;
  if (!res.text.includes(res.requestId)) return `status ${res.status} without the request id: ${res.text.slice(0, 200)}`;
  return 'ok';
}

const replyOutcome = (res: Reply, success: number): Outcome => ({ verdict: judgeReply(res, success), succeeded: res.status === success });

const issue = (role: string): Flow => ({
  name: `issue ${role}`,
  prepare: async () => undefined,
  run: async () => replyOutcome(await b.creds(role), 200),
});

async function cleanLease(role = 'gen'): Promise<string> {
  const res = await b.creds(role);
  if (res.status !== 200 || !res.body.lease_id) throw new Error(`clean issue failed: ${res.status} ${res.text}`);
  return res.body.lease_id;
}

const revoke: Flow = {
  name: 'revoke gen',
  prepare: () => cleanLease('gen'),
  run: async (leaseId) => replyOutcome(await b.revoke(leaseId as string), 204),
};

/** TTL removed the item; the stream record reaches the expire Lambda, which may fail once and is redelivered. */
const expire: Flow = {
  name: 'expire gen',
  background: true,
  prepare: async () => {
    const leaseId = await cleanLease('gen');
    const record = await b.ttlRecord(leaseId);
    await dynamoClient().send(new DeleteItemCommand({ TableName: b.tables.leases, Key: { lease_id: { S: leaseId } } }));
    return record;
  },
  run: async (record) => {
    const first = await b.expire([record as DynamoDBRecord]);
    if (first.batchItemFailures.length === 0) return { verdict: 'ok', succeeded: true };
    // the event source mapping retries the failed record
    b.kube.plan([]);
    b.ddb.plan([]);
    const again = await b.expire([record as DynamoDBRecord]);
    return { verdict: again.batchItemFailures.length === 0 ? 'ok' : 'redelivery failed without faults', succeeded: false };
  },
};

/** One lease whose expiry passed (its item lingers) and one orphan whose item vanished. */
const sweepFlow: Flow = {
  name: 'sweep',
  background: true,
  prepare: async () => {
    const expired = await cleanLease('gen');
    await dynamoClient().send(
      new UpdateItemCommand({
        TableName: b.tables.leases,
        Key: { lease_id: { S: expired } },
        UpdateExpression: 'SET expires_at = :t',
        ExpressionAttributeValues: { ':t': { N: String(Math.floor(Date.now() / 1000) + 60) } },
      }),
    );
    const orphan = await cleanLease('sa');
    await dynamoClient().send(new DeleteItemCommand({ TableName: b.tables.leases, Key: { lease_id: { S: orphan } } }));
    return undefined;
  },
  // the sweep runs 400 s ahead: the lease above has expired, the orphan is past its grace
  run: async () => {
    try {
      const report = await b.sweep(400);
      return { verdict: report.outOfTime ? 'sweep ran out of time' : 'ok', succeeded: report.failures.length === 0 };
    } catch (err) {
      // the mount list itself could not be read: the Lambda fails (Errors alarm), the next run retries
      return { verdict: isKubeleaseError(err) && err.status >= 502 ? 'ok' : `sweep threw ${String(err)}`, succeeded: false };
    }
  },
};

const flows: Flow[] = [issue('gen'), issue('sa'), issue('bind'), revoke, expire, sweepFlow];

interface Kind {
  name: string;
  fault: Fault;
  times: number;
}

const kind = (name: string, fault: Fault, times: number): Kind => ({ name, fault, times });
const K500 = kind('500 once', { kind: 'status', status: 500 }, 1);
const K429 = kind('429 once (Retry-After: 0)', { kind: 'status', status: 429, retryAfterSeconds: 0 }, 1);
const K409 = kind('409 once', { kind: 'status', status: 409 }, 1);
const KRESET = kind('reset once', { kind: 'reset' }, 1);
const K503S = kind('503 always', { kind: 'status', status: 503 }, Infinity);
const KRESETS = kind('reset always', { kind: 'reset' }, Infinity);
const KSTALL = kind('stall once', { kind: 'stall' }, 1);
const KINDS = [K500, K429, K409, KRESET, K503S, KRESETS, KSTALL];

const firstSignature: Record<Side, string> = { kube: '', ddb: '' };
const firstOfSide = (pos: Position) => pos.nth === 0 && pos.signature === firstSignature[pos.side];

/**
 * Which faults a position gets. Where a person waits (issue, revoke) every position gets a
 * transient fault and a persistent one, in rotation over the kinds, and every position of the
 * generated-role issuance a stall; the background flows (expire, sweep) get one fault per
 * position, rotating over all kinds; every flow's first apiserver and first DynamoDB call get a
 * stall. KUBELEASE_FAULTS=full gives every position every kind (about 4x longer).
 */
function kindsFor(flow: Flow, pos: Position, i: number): Kind[] {
  if (process.env.KUBELEASE_FAULTS === 'full') return KINDS;
  const transient = [K500, K429, KRESET, ...(pos.side === 'kube' ? [K409] : [])];
  const persistent = [K503S, KRESETS];
  const stall = flow.name === 'issue gen' || firstOfSide(pos) ? [KSTALL] : [];
  if (flow.background) {
    const all = [...transient, ...persistent];
    return [all[i % all.length]!, ...stall];
  }
  return [transient[i % transient.length]!, persistent[i % persistent.length]!, ...stall];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const proxyOf = (side: Side): FaultProxy => (side === 'kube' ? b.kube : b.ddb);

/** The calls a flow makes (after its preparation), in order, as positions. */
async function positionsOf(flow: Flow): Promise<Position[]> {
  const input = await flow.prepare();
  b.kube.reset();
  b.ddb.reset();
  const outcome = await flow.run(input);
  expect([flow.name, outcome.verdict]).toEqual([flow.name, 'ok']);
  const seen = new Map<string, number>();
  const calls: (ProxiedCall & { side: Side })[] = [
    ...b.kube.calls.map((c) => ({ ...c, side: 'kube' as const })),
    ...b.ddb.calls.map((c) => ({ ...c, side: 'ddb' as const })),
  ].sort((x, y) => x.startedAt - y.startedAt);
  return calls.map((c) => {
    const k = `${c.side} ${c.signature}`;
    const nth = seen.get(k) ?? 0;
    seen.set(k, nth + 1);
    return { side: c.side, signature: c.signature, nth };
  });
}

const counts = { cases: 0, injected: 0, retried: 0, succeeded: 0, failedCleanly: 0, sweeps: 0 };
const violationsFound: string[] = [];
const gaps: number[] = [];

/**
 * The attempts of the faulted call: calls to the same object (Kubernetes path; DynamoDB
 * operation + lease id) as the first faulted one, from it on. Other objects that share the
 * signature (the sweep handles several leases at once) are other calls.
 */
function attemptsAt(proxy: FaultProxy): ProxiedCall[] {
  const first = proxy.calls.find((c) => c.fault !== undefined);
  if (!first) return [];
  const same = (c: ProxiedCall) => c.signature === first.signature && c.path === first.path && c.leaseId === first.leaseId;
  const out: ProxiedCall[] = [];
  for (const c of proxy.calls) {
    if (c.index < first.index || !same(c)) continue;
    out.push(c);
    if (c.fault === undefined) break; // the attempt that got through ends the call
  }
  return out;
}

test.each(flows.map((f) => [f.name, f] as const))(
  'faults at every call position of %s',
  async (_name, flow) => {
    const positions = await positionsOf(flow);
    for (const side of ['kube', 'ddb'] as const) firstSignature[side] = positions.find((p) => p.side === side)?.signature ?? '';
    const timing = { prepareMs: 0, runMs: 0 };
    for (const [i, pos] of positions.entries()) {
      for (const k of kindsFor(flow, pos, i)) {
        let t = Date.now();
        const input = await flow.prepare();
        timing.prepareMs += Date.now() - t;
        t = Date.now();
        b.kube.reset();
        b.ddb.reset();
        const proxy = proxyOf(pos.side);
        proxy.plan([{ match: new RegExp(`^${escape(pos.signature)}$`), at: pos.nth, times: k.times, fault: k.fault }]);
        const before = proxy.injected;
        const outcome = await flow.run(input);
        timing.runMs += Date.now() - t;
        const injected = proxy.injected - before;
        const attempts = attemptsAt(proxy);
        b.kube.plan([]);
        b.ddb.plan([]);
        counts.cases++;
        counts.injected += injected;
        if (attempts.length > 1) counts.retried++;
        if (outcome.succeeded) counts.succeeded++;
        else counts.failedCleanly++;
        const where = `${k.name} at ${flow.name} → ${pos.side} ${pos.signature} #${pos.nth}`;
        if (injected === 0) violationsFound.push(`${where}: the fault was never injected`);
        if (outcome.verdict !== 'ok') violationsFound.push(`${where}: ${outcome.verdict}`);
        // bounded: the kube adapter makes at most 3 attempts of one call, the AWS SDK at most 4 of a DynamoDB call
        const limit = pos.side === 'kube' ? 3 : 4;
        const faulted = attempts.filter((c) => c.fault !== undefined).length;
        if (faulted > limit) violationsFound.push(`${where}: ${faulted} attempts`);
        for (let j = 1; j < attempts.length; j++) gaps.push(Math.max(0, attempts[j]!.startedAt - (attempts[j - 1]!.endedAt ?? attempts[j - 1]!.startedAt)));
      }
    }
    collector.say(`${flow.name}: ${positions.length} positions, prepare ${timing.prepareMs} ms, runs ${timing.runMs} ms`);
    const report = await b.cleanSweep();
    counts.sweeps++;
    expect(report.failures).toEqual([]);
    const found = await b.violations();
    expect({ flow: flow.name, ...found }).toEqual({ flow: flow.name, ...noViolations });
    expect(violationsFound).toEqual([]);
    // end every lease (tokens are 1 h): the next flow starts from an empty mount
    expect((await b.sweep(4000)).failures).toEqual([]);
    expect(await b.violations()).toEqual(noViolations);
  },
  T,
);

describe('bounded retries where client-node has none', () => {
  const transient: Kind[] = [
    kind('500 once', { kind: 'status', status: 500 }, 1),
    kind('503 once', { kind: 'status', status: 503 }, 1),
    kind('429 once', { kind: 'status', status: 429 }, 1),
    kind('reset once', { kind: 'reset' }, 1),
  ];
  // no namespace or ServiceAccount pre-check any more (issue 13): the TokenRequest is the issuance's idempotent call
  const idempotent = [/^POST .*\/serviceaccounts\/[^/]+\/token$/];

  test('one transient fault on an idempotent Kubernetes call of an issuance is absorbed: the caller gets its token', async () => {
    for (const match of idempotent) {
      for (const k of transient) {
        b.kube.reset();
        b.kube.plan([{ match, fault: k.fault, times: k.times }]);
        const res = await b.creds('sa');
        const attempts = b.kube.calls.filter((c) => match.test(c.signature));
        expect([String(match), k.name, res.status, attempts.length]).toEqual([String(match), k.name, 200, 2]);
        expect(attempts[0]!.fault).toBeDefined();
        counts.injected++;
      }
    }
  }, T);

  test('a 429 on a create is retried after its Retry-After; other failures of a create are not (it may have happened)', async () => {
    const create = /^POST \/api\/v1\/namespaces\/[^/]+\/serviceaccounts$/;
    b.kube.reset();
    b.kube.plan([{ match: create, fault: { kind: 'status', status: 429, retryAfterSeconds: 1 } }]);
    const res = await b.creds('gen');
    expect(res.status).toBe(200);
    const [first, second, ...rest] = b.kube.calls.filter((c) => create.test(c.signature));
    expect(rest).toEqual([]);
    expect(second!.startedAt - first!.endedAt!).toBeGreaterThanOrEqual(950);

    b.kube.reset();
    b.kube.plan([{ match: create, fault: { kind: 'status', status: 500 } }]);
    expect((await b.creds('gen')).status).toBe(502);
    expect(b.kube.calls.filter((c) => create.test(c.signature))).toHaveLength(1);
    counts.injected += 2;
  }, T);

  test('a fault that persists costs 3 attempts of an idempotent call, then a 503 with the request id', async () => {
    const get = idempotent[0]!;
    b.kube.reset();
    b.kube.plan([{ match: get, fault: { kind: 'status', status: 503 }, times: Infinity }]);
    const started = Date.now();
    const res = await b.creds('gen');
    expect(res.status).toBe(503);
    expect(res.text).toContain(res.requestId);
    expect(b.kube.calls.filter((c) => get.test(c.signature))).toHaveLength(3);
    // two waits of at most 100 ms and 200 ms
    expect(Date.now() - started).toBeLessThan(5_000);
    counts.injected += 3;
    b.kube.plan([]);
  }, T);
});

describe('a DynamoDB write that landed but whose answer was lost, then retried by the SDK', () => {
  // the harness's DynamoDB client gives up on an attempt after 700 ms; the answer comes at 1 500
  const late: Fault = { kind: 'late', ms: 1_500 };

  test('the lease write (conditional put): the retry finds its own item, the issuance goes on', async () => {
    b.ddb.reset();
    b.ddb.plan([{ match: /^PutItem .*-leases$/, fault: late }]);
    const res = await b.creds('gen');
    expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
    expect(b.ddb.calls.filter((c) => /^PutItem .*-leases$/.test(c.signature)).length).toBe(2);
    counts.injected++;
    expect((await b.revoke(res.body.lease_id!)).status).toBe(204);
  }, T);

  test('the lease check after the TokenRequest (a read) answers late: the retry finds the lease active, the token is handed out', async () => {
    b.ddb.reset();
    b.ddb.plan([{ match: /^GetItem .*-leases$/, fault: late }]);
    const res = await b.creds('sa');
    expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
    counts.injected++;
    expect((await b.rawLease(res.body.lease_id!))?.status?.S).toBe('active');
    expect((await b.revoke(res.body.lease_id!)).status).toBe(204);
  }, T);
});

test('a DynamoDB call that never answers is abandoned within seconds and retried, with the production client settings', async () => {
  const deps = depsFromEnv(b.env, undefined, { secretBox: localKeyBox(b.env) });
  b.ddb.reset();
  b.ddb.plan([{ fault: { kind: 'stall' } }]);
  const started = Date.now();
  // before: no timeout at all, the call waited for the proxy to give up (60 s)
  expect(await deps.leases.get(`${b.mount}/creds/gen/nothing`)).toBeUndefined();
  const took = Date.now() - started;
  expect(b.ddb.calls.map((c) => c.fault ?? 'pass')).toEqual(['stall', 'pass']);
  expect(took).toBeGreaterThanOrEqual(2_900);
  expect(took).toBeLessThan(8_000);
  counts.injected++;
}, 20_000);

test('retries waited a jittered, capped time between attempts', () => {
  expect(gaps.length).toBeGreaterThan(10);
  expect(Math.max(...gaps)).toBeLessThan(2_500);
  // full jitter: not one fixed delay
  expect(new Set(gaps.map((g) => Math.round(g / 5))).size).toBeGreaterThan(3);
  recordSummary('faults', { ...counts, retryGapsMs: `${Math.min(...gaps)}..${Math.max(...gaps)}` });
  collector.say(`faults: ${JSON.stringify(counts)}`);
});
