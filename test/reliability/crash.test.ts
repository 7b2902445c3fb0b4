/**
 * Item 2 of issue 14: the broker (the local stack in a child process) is killed with SIGKILL right
 * after each step of an issuance and of a revoke (KUBELEASE_CRASH_AFTER, lib/local/crash-points.ts).
 * After each crash the broker's sweep runs (later, as scheduled): nothing is orphaned, nothing
 * lost, no lease claims objects that do not exist, nothing is left pending or revoking. Then the
 * broker is restarted on the same tables and serves again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { uniqueSuffix } from '../support/bed.js';
import { collector } from '../support/reliability/collector.js';
import { noViolations, violations } from '../support/reliability/invariants.js';
import { stackDeps, sweepAhead } from '../support/reliability/recovery.js';
import { startStackProcess, type StackProcess } from '../support/reliability/stack-process.js';
import { recordSummary } from '../support/reliability/summary.js';
import { signedHeaders } from '../support/signed-fetch.js';
import type { LocalPrincipal } from '../../lib/local/credentials.js';

const T = 120_000;
const suffix = uniqueSuffix();
const home = mkdtempSync(path.join(os.tmpdir(), 'kl-crash-home-'));
const tablePrefix = `crash-${suffix}`;
const mount = `crash-${suffix}`;
const eksMount = `crash-eks-${suffix}`;
const start = (crashAfter?: string) => startStackProcess({ home, tablePrefix, mount, eksMount, ...(crashAfter ? { crashAfter } : {}) });

interface Res {
  status: number;
  body: { lease_id?: string; errors?: string[]; data?: { service_account_token?: string } };
}

async function call(stack: StackProcess, p: LocalPrincipal, method: string, pathname: string, body?: unknown): Promise<Res> {
  const url = new URL(stack.url + pathname);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = await signedHeaders(p, { method, url, ...(text !== undefined ? { body: text } : {}) });
  const res = await fetch(url, { method, headers, ...(text !== undefined ? { body: text } : {}) });
  const raw = await res.text();
  if (res.status >= 400) collector.errorBody(res.status, raw);
  const parsed = (raw ? JSON.parse(raw) : {}) as Res['body'];
  if (parsed.data?.service_account_token) collector.secret(parsed.data.service_account_token, 'an issued token');
  return { status: res.status, body: parsed };
}

const issue = (stack: StackProcess, role: string) => call(stack, stack.ci, 'POST', `/v1/${mount}/creds/${role}`, { kubernetes_namespace: 'default' });

const figures = { crashPoints: 0, startups: 0, startupMs: 0, sweptLeases: 0, revokesFinished: 0, orphansRemoved: 0 };

let tables: StackProcess['tables'];

beforeAll(async () => {
  const t = Date.now();
  const first = await start();
  collector.say(`first start: ${Date.now() - t} ms (child: ${first.startupMs} ms)`);
  tables = first.tables;
  await first.stop();
}, T);

afterAll(() => rmSync(home, { recursive: true, force: true }));

/** [role, step]: every step of an issuance in each mode, then every step of a revoke */
const issuance: [string, string][] = [
  ['demo-generated', 'lease.create'],
  ['demo-generated', 'kube.create.ServiceAccount'],
  ['demo-generated', 'kube.create.Role'],
  ['demo-generated', 'kube.create.RoleBinding'],
  ['demo-generated', 'kube.token'],
  // no activation step: the lease is written once, active; after the token only reads follow
  ['demo-existing-sa', 'kube.token'],
  // the anchor Secret is the owner in this mode (bind-role mode has no step of its own)
  ['demo-existing-sa', 'kube.create.Secret'],
];
const revoke: [string, string][] = [
  ['demo-generated', 'lease.revoking'],
  ['demo-generated', 'kube.delete.RoleBinding'],
  ['demo-generated', 'kube.delete.Role'],
  ['demo-generated', 'kube.delete.ServiceAccount'],
  ['demo-generated', 'lease.delete'],
  ['demo-existing-sa', 'kube.delete.Secret'],
];

/**
 * Children are started one case ahead: the next one boots while this one is crashed and swept
 * (two stacks on the same tables are harmless: no sweep timer, nothing for the stream pollers).
 */
const order = [...issuance, ...revoke].map(([, step]) => step);
const prestarted = new Map<number, Promise<StackProcess>>();
function child(i: number): Promise<StackProcess> {
  const p = prestarted.get(i) ?? start(order[i]);
  prestarted.delete(i);
  if (i + 1 < order.length && !prestarted.has(i + 1)) prestarted.set(i + 1, start(order[i + 1]));
  return p;
}
let caseIndex = 0;

async function crashAndRecover(role: string, step: string, during: 'issue' | 'revoke') {
  const t = Date.now();
  const stack = await child(caseIndex++);
  figures.startups++;
  figures.startupMs += stack.startupMs;
  collector.say(`${step}: started in ${Date.now() - t} ms (child: ${stack.startupMs} ms)`);
  let leaseId: string | undefined;
  if (during === 'revoke') {
    const issued = await issue(stack, role);
    expect(issued.status).toBe(200);
    leaseId = issued.body.lease_id;
  }
  // the connection dies with the process: no answer
  const cut = during === 'issue' ? issue(stack, role) : call(stack, stack.ci, 'PUT', '/v1/sys/leases/revoke', { lease_id: leaseId });
  await expect(cut).rejects.toThrow();
  const exit = await stack.exited;
  expect(exit).toEqual({ code: null, signal: 'SIGKILL', crashedAt: step });
  figures.crashPoints++;

  const report = await sweepAhead(stackDeps(home, tablePrefix));
  figures.sweptLeases += report.expiredLeases;
  figures.revokesFinished += report.revokesFinished;
  figures.orphansRemoved += report.orphansRemoved;
  expect(report.failures).toEqual([]);
  expect(await violations(tables.leases, mount)).toEqual(noViolations);
}

test.each(issuance)('issue %s, killed right after %s: the sweep leaves nothing behind', (role, step) => crashAndRecover(role, step, 'issue'), T);

test.each(revoke)('revoke %s, killed right after %s: the sweep finishes the revoke', (role, step) => crashAndRecover(role, step, 'revoke'), T);

test('restarted on the same tables, the broker serves: creds in every mode, revoke, lookup', async () => {
  const stack = await start();
  for (const role of ['demo-generated', 'demo-existing-sa', 'demo-bind-role']) {
    const res = await issue(stack, role);
    expect([role, res.status]).toEqual([role, 200]);
    expect((await call(stack, stack.ci, 'PUT', '/v1/sys/leases/revoke', { lease_id: res.body.lease_id })).status).toBe(204);
  }
  const exit = await stack.stop();
  expect(exit.code).toBe(0);
  expect(await violations(tables.leases, mount)).toEqual(noViolations);
  recordSummary('crash points', { ...figures, startupMs: Math.round(figures.startupMs / figures.startups) });
  collector.say(`crash: ${JSON.stringify(figures)}`);
}, T);
