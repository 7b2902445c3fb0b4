/**
 * The API Lambdas' middy chain (lib/lambda/http-handler.ts) on in-memory stores: the answer, and
 * what the middlewares (http-middlewares.ts) add around it — the request's log keys, one audit
 * record per request (refusals included) carrying those keys, and the EMF metrics Powertools
 * flushes at the end of the invocation.
 */
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { httpHandler } from '../../../lib/lambda/http-handler.js';
import { auditLog, setDeps } from '../../../lib/lambda/runtime.js';
import { restEvent, type EventInput } from '../../support/apigw.js';
import { memoryDeployment, type MemoryDeps } from '../engine/fake-cluster.js';
import { FAKE_ADMIN, FAKE_CI, FAKE_CI_ROLE } from '../../support/fixtures.js';

const CI = FAKE_CI.arn;
const context = { awsRequestId: 'aws-req-1', functionName: 'kubelease-roles', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

let deps: MemoryDeps;
let lines: Record<string, unknown>[];
const streams = [process.stdout, process.stderr] as const;
const writes = streams.map((s) => s.write);

beforeEach(async () => {
  ({ deps } = await memoryDeployment());
  setDeps({ ...deps, audit: auditLog });
  lines = [];
  // Powertools writes INFO and EMF to stdout, WARN and ERROR to stderr
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      for (const l of String(chunk).split('\n')) if (l.startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
      return true;
    }) as typeof stream.write;
  }
});
afterEach(() => {
  streams.forEach((stream, i) => (stream.write = writes[i]!));
  setDeps(undefined);
});

async function call(fn: Parameters<typeof httpHandler>[0], input: Partial<EventInput> & Pick<EventInput, 'method' | 'path'>): Promise<{ status: number; body: Record<string, unknown> }> {
  const event = restEvent({ arn: FAKE_ADMIN.arn, ...input });
  const res: APIGatewayProxyResult = await httpHandler(fn)(event, context);
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {} };
}
const audits = () => lines.filter((l) => l.type === 'audit');
const emf = () => lines.filter((l) => l._aws !== undefined);
const metricNames = (l: Record<string, unknown>) => (l._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!.Metrics.map((m) => m.Name);

test('a role write: 204, one audit record with the request keys, Success counted per op', async () => {
  const res = await call('roles', { method: 'POST', path: '/v1/c1/roles/deploy', body: { allowed_kubernetes_namespaces: 'team', service_account_name: 'default' } });
  expect(res.status).toBe(204);
  expect(audits()).toHaveLength(1);
  expect(audits()[0]).toMatchObject({ message: 'audit', action: 'POST roles', outcome: 'success', caller: FAKE_ADMIN.arn, mount: 'c1', role: 'deploy', op: 'roles', function_request_id: 'aws-req-1' });
  const [metrics] = emf();
  expect(metricNames(metrics!)).toEqual(['Success']);
  expect(metrics).toMatchObject({ op: 'roles', service: 'kubelease', Success: 1 });
});

test('a refusal is audited and counted by cause; the log line names the field', async () => {
  const res = await call('roles', { method: 'POST', path: '/v1/c1/roles/deploy', arn: CI, body: {} });
  expect(res.status).toBe(403);
  expect(audits()[0]).toMatchObject({ action: 'POST roles', outcome: 'denied', caller: CI, detail: '403' });
  expect(lines.find((l) => l.message === 'request refused')).toMatchObject({ level: 'WARN', status: 403, op: 'roles', caller: CI });
  expect(emf().flatMap(metricNames).sort()).toEqual(['Failure', 'Failures']);
  expect(emf().find((l) => 'cause' in l)).toMatchObject({ cause: 'forbidden', Failures: 1 });
});

test('an event that never reaches the engine (no IAM identity) is still audited as <fn>.unrouted', async () => {
  const res = await call('roles', { method: 'GET', path: '/v1/c1/roles/deploy', arn: null });
  expect(res).toEqual({ status: 403, body: { errors: ['Authorization: the request carries no IAM identity; sign it with AWS SigV4'] } });
  expect(audits()).toEqual([expect.objectContaining({ action: 'GET roles.unrouted', outcome: 'denied', detail: '403' })]);
  expect(audits()[0]).not.toHaveProperty('caller');
});

test('creds: issued and latency by mode; the token never reaches a log line', async () => {
  await call('roles', { method: 'POST', path: '/v1/c1/roles/deploy', body: { allowed_kubernetes_namespaces: 'team', service_account_name: 'default', allowed_principals: FAKE_CI_ROLE } });
  lines.length = 0;
  const res = await call('creds', { method: 'POST', path: '/v1/c1/creds/deploy', arn: CI, body: { kubernetes_namespace: 'team' } });
  expect(res.status).toBe(200);
  const token = (res.body.data as { service_account_token: string }).service_account_token;
  expect(audits()[0]).toMatchObject({ action: 'POST creds', outcome: 'success', lease_id: res.body.lease_id });
  expect(emf().find((l) => metricNames(l).includes('Issued'))).toMatchObject({ mode: 'existing_service_account', Issued: 1 });
  expect(emf().find((l) => metricNames(l).includes('IssueLatency'))).toMatchObject({ mode: 'existing_service_account' });
  expect(JSON.stringify(lines)).not.toContain(token);
});
