/**
 * Item 4 of issue 14, HTTP side: every route of the API through the Lambda's own middy chain
 * (API Gateway REST events in, envelopes out), KUBELEASE_FUZZ_RUNS (default 10,000) generated
 * requests per route: methods, path parameters, query strings, headers, bodies (JSON of the
 * route's fields with values of any type and size, other JSON, broken JSON, base64), callers.
 * No answer is a 5xx, none carries a stack trace, every 4xx has errors[] naming a field or the
 * path. The stores are in memory and the cluster is the recording fake of our KubeCluster port:
 * the stored side is corrupt-items.test.ts, the real cluster the rest of the suite.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { issueCreds, writeRole } from '../../lib/engine/index.js';
import { httpHandler } from '../../lib/lambda/http-handler.js';
import { auditLog, setDeps } from '../../lib/lambda/runtime.js';
import { routes, type Route } from '../../lib/http/routes.js';
import { collector } from '../support/reliability/collector.js';
import { recordSummary } from '../support/reliability/summary.js';
import { FAKE_ADMIN } from '../support/fixtures.js';
import { lambdaContext } from '../support/lambda-context.js';
import { iamIdentity } from '../../lib/local/api-gateway-identity.js';
import { memoryDeployment, type MemoryDeps } from '../unit/engine/fake-cluster.js';

const RUNS = Number(process.env.KUBELEASE_FUZZ_RUNS ?? 10_000);
const RESEED_EVERY = 500;
const CI = 'arn:aws:sts::111111111111:assumed-role/ci/run-1';
const CI_ROLE = 'arn:aws:iam::111111111111:role/ci';

let deps: MemoryDeps;
let leaseIds: string[] = [];
let sinceSeed = 0;

/** A fresh deployment: mount c1, one role per mode, two leases; the fuzz may delete any of it. */
async function seed(): Promise<void> {
  ({ deps } = await memoryDeployment());
  deps.audit = auditLog;
  const role = (name: string, body: Record<string, unknown>) =>
    writeRole(deps, { mount: 'c1', name, caller: FAKE_ADMIN, body: { allowed_principals: CI_ROLE, allowed_kubernetes_namespaces: 'team', ...body } });
  await role('gen', { generated_role_rules: '{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}' });
  await role('sa', { service_account_name: 'default' });
  await role('bind', { kubernetes_role_name: 'view', kubernetes_role_type: 'ClusterRole' });
  leaseIds = [];
  for (const r of ['gen', 'sa']) leaseIds.push((await issueCreds(deps, { mount: 'c1', roleName: r, caller: { arn: CI }, body: {} })).lease.lease_id);
  setDeps(deps);
  sinceSeed = 0;
}

beforeAll(seed);
afterAll(() => setDeps(undefined));

const FIELDS: Record<string, string[]> = {
  config: ['kubernetes_host', 'kubernetes_ca_cert', 'service_account_jwt', 'eks_cluster_name', 'eks_region', 'role_arn', 'external_id', 'disable_local_ca_jwt'],
  roles: [
    'allowed_kubernetes_namespaces', 'allowed_kubernetes_namespace_selector', 'token_max_ttl', 'token_default_ttl', 'token_default_audiences',
    'service_account_name', 'kubernetes_role_name', 'kubernetes_role_type', 'generated_role_rules', 'name_template', 'extra_labels',
    'extra_annotations', 'allowed_principals', 'allow_cluster_role_binding', 'allowed_audiences', 'revocable',
  ],
  'roles.check': ['kubernetes_namespace', 'cluster_role_binding'],
  creds: ['kubernetes_namespace', 'cluster_role_binding', 'ttl', 'audiences'],
  'leases.lookup': ['lease_id', 'increment', 'sync'],
  'leases.revoke': ['lease_id', 'increment', 'sync'],
};

const huge = fc.string({ minLength: 5_000, maxLength: 20_000 });
const odd = fc.oneof(
  fc.constantFrom('sys', 'mounts', 'leases', '..', '.', '-', 'a-', 'UPPER', 'kl-x', 'c1 ', '%2F', 'a'.repeat(64), 'b'.repeat(129), ''),
  fc.string({ maxLength: 70 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ minLength: 200, maxLength: 1200 }),
);
/** Mostly the names that exist (so requests get past routing into the engine), else anything. */
const mountName = fc.oneof({ weight: 6, arbitrary: fc.constant('c1') }, { weight: 1, arbitrary: fc.constant('c2') }, { weight: 3, arbitrary: odd });
const roleName = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('gen', 'sa', 'bind') }, { weight: 1, arbitrary: fc.constant('nope') }, { weight: 3, arbitrary: odd });

/** Any value a client may put in a field: every JSON type, nested, big and small. */
const anyValue = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: huge },
  { weight: 2, arbitrary: fc.constantFrom('*', '', ' ', '-1', 'true', '{"rules":[]}', 'rules: [', 'a=b,c', '__proto__=x', '\u0000') },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 599, 600, 1e308, -0, Number.MAX_SAFE_INTEGER, 0.5, true, false, null) },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 300 }) },
);

/** Values that make sense for a field (so validation passes often enough to reach the engine). */
const PLAUSIBLE: Record<string, fc.Arbitrary<unknown>> = {
  kubernetes_host: fc.constantFrom('https://127.0.0.1:6443', 'https://kube.example.com', 'http://x', 'https://[::1]:6443'),
  kubernetes_ca_cert: fc.constantFrom('', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', 'bm90IGEgY2VydA=='),
  service_account_jwt: fc.constantFrom('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'not-a-jwt'),
  eks_cluster_name: fc.constantFrom('prod', 'a'.repeat(101)),
  eks_region: fc.constantFrom('eu-west-1', 'mars-1'),
  role_arn: fc.constantFrom('arn:aws:iam::111111111111:role/broker', 'arn:aws:iam::1:role/x'),
  allowed_kubernetes_namespaces: fc.constantFrom('team', '*', ['team', 'other'], 'team,other', ['*', 'team']),
  allowed_kubernetes_namespace_selector: fc.constantFrom('{"matchLabels":{"stage":"dev"}}', 'matchLabels:\n  stage: dev\n', '{"matchExpressions":[{"key":"a","operator":"In"}]}'),
  token_max_ttl: fc.constantFrom('1h', 7200, '10m', '24h', '48h', 'soon'),
  token_default_ttl: fc.constantFrom('30m', 600, 599, '2h'),
  token_default_audiences: fc.constantFrom(['api'], 'a,b', []),
  service_account_name: fc.constantFrom('default', 'missing', 'Not_DNS'),
  kubernetes_role_name: fc.constantFrom('view', 'edit', 'x'),
  kubernetes_role_type: fc.constantFrom('Role', 'ClusterRole', 'role', 'Other'),
  generated_role_rules: fc.constantFrom('{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}', 'rules:\n- verbs: [get]\n  nonResourceURLs: ["/healthz"]\n', '{"rules":[{"verbs":[]}]}'),
  name_template: fc.constantFrom('{{ .RoleName }}-{{ random 5 }}', '{{ .DisplayName | lowercase }}', '{{', 'x'),
  extra_labels: fc.constantFrom({ team: 'a' }, 'a=b', { 'kubelease.io/x': 'y' }),
  extra_annotations: fc.constantFrom({ note: 'x' }, ['a=b']),
  allowed_principals: fc.constantFrom(CI_ROLE, 'arn:aws:iam::111111111111:role/ci-*', '*', ['arn:aws:iam::111111111111:user/a']),
  allow_cluster_role_binding: fc.boolean(),
  allowed_audiences: fc.constantFrom(['api'], 'api'),
  revocable: fc.boolean(),
  kubernetes_namespace: fc.constantFrom('team', 'other', 'default', 'TEAM'),
  cluster_role_binding: fc.boolean(),
  ttl: fc.constantFrom('10m', '1h', 600, '30m', '25h', 599),
  audiences: fc.constantFrom(['api'], 'api', []),
  lease_id: fc.constantFrom('lease:0', 'lease:1', `c1/creds/gen/${'a'.repeat(24)}`, 'c1/creds/gen/x'),
  increment: fc.constantFrom(3600, '1h'),
  sync: fc.boolean(),
};

function bodyFor(route: Route): fc.Arbitrary<string | null> {
  const fields = FIELDS[route.op] ?? [];
  const known = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant('anything');
  const key = fc.oneof({ weight: 8, arbitrary: known }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '') });
  const plausible = (k: string) => (Object.hasOwn(PLAUSIBLE, k) ? PLAUSIBLE[k] : undefined);
  const entry = key.chain((k) => {
    const p = plausible(k);
    return fc.tuple(fc.constant(k), p ? fc.oneof({ weight: 3, arbitrary: p }, { weight: 1, arbitrary: anyValue }) : anyValue);
  });
  const object = fc.array(entry, { maxLength: 8 }).map((entries) => Object.fromEntries(entries));
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 12, arbitrary: object.map((o) => JSON.stringify(o)) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[]', 'null', '""', '{}', '   ', '\u0000', '{"lease_id": "lease:0"}') },
  );
}

const query = fc.option(
  fc.dictionary(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom('list', 'force') }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
    fc.oneof({ weight: 4, arbitrary: fc.constant('true') }, { weight: 1, arbitrary: fc.constantFrom('false', '', 'TRUE', '1') }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }),
    { maxKeys: 3 },
  ),
  { nil: null, freq: 3 },
);
const headers = fc.dictionary(fc.string({ minLength: 1, maxLength: 30 }), fc.oneof(fc.string({ maxLength: 100 }), fc.constantFrom('application/json', 'text/plain', '', 'chunked')), { maxKeys: 6 });
const caller = fc.oneof(
  { weight: 9, arbitrary: fc.constant<string | null>(FAKE_ADMIN.arn) },
  { weight: 7, arbitrary: fc.constant<string | null>(CI) },
  { weight: 4, arbitrary: fc.constantFrom<string | null>('arn:aws:iam::222222222222:user/mallory', null, '', 'not-an-arn', `arn:aws:sts::111111111111:assumed-role/ci/${'x'.repeat(600)}`) },
);

interface Case {
  method: string;
  params: Record<string, string>;
  query: Record<string, string> | null;
  headers: Record<string, string>;
  body: string | null;
  base64: boolean;
  arn: string | null;
}

function caseFor(route: Route): fc.Arbitrary<Case> {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return fc.record({
    method: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...route.methods) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'LIST', 'get') }),
    params: fc.record(Object.fromEntries(names.map((n) => [n, n === 'mount' ? mountName : roleName]))) as fc.Arbitrary<Record<string, string>>,
    query,
    headers,
    body: bodyFor(route),
    base64: fc.boolean(),
    arn: caller,
  });
}

function eventOf(route: Route, c: Case): APIGatewayProxyEvent {
  const path = route.path.replace(/\{(\w+)\}/g, (_, n: string) => encodeURIComponent(c.params[n] ?? ''));
  const leaseRef = (v: string) => v.replace(/lease:(\d)/g, (_, i: string) => leaseIds[Number(i)] ?? 'gone');
  const body = c.body === null ? null : leaseRef(c.body);
  return {
    resource: route.path,
    path,
    httpMethod: c.method,
    headers: c.headers,
    multiValueHeaders: Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: c.query,
    multiValueQueryStringParameters: c.query ? Object.fromEntries(Object.entries(c.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: Object.keys(c.params).length > 0 ? c.params : null,
    stageVariables: null,
    body: body !== null && c.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: body !== null && c.base64,
    requestContext: {
      accountId: '111111111111',
      apiId: 'fuzz',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: c.method,
      path: `/prod${path}`,
      stage: 'prod',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'fuzz',
      resourcePath: route.path,
      identity: iamIdentity({ accessKey: null, accountId: null, caller: null, sourceIp: '127.0.0.1', userAgent: 'fuzz', userArn: c.arn }),
    },
  };
}

const context = (fn: string): Context => lambdaContext(fn, { logStreamName: 'fuzz', remainingMs: 29_000 });

const STACK = /\n\s+at |\.ts:\d+|\.js:\d+|node_modules|TypeError|ReferenceError|SyntaxError: |\[object Object\]/;

/** Words of the path a message may name instead of a field: its static segments and the values of its parameters. */
function namesFieldOrPath(message: string, route: Route, c: Case): boolean {
  if (/^[A-Za-z_][\w.[\]-]*: /.test(message)) return true; // "field: …"
  if (bodyKeys(c).some((k) => message.startsWith(`${k}: `))) return true; // "<key as sent>: unknown field"
  if ((FIELDS[route.op] ?? []).some((f) => message.includes(f))) return true; // "one of a, b, c must be set"
  const words = route.path.split('/').filter((s) => s && !s.startsWith('{') && s !== 'v1');
  if (words.some((w) => message.includes(w))) return true;
  return Object.values(c.params).some((v) => v !== '' && message.includes(v));
}

function bodyKeys(c: Case): string[] {
  try {
    const parsed: unknown = JSON.parse(c.body ?? '');
    return parsed && typeof parsed === 'object' ? Object.keys(parsed) : [];
  } catch {
    return [];
  }
}

const statuses: Record<string, Record<number, number>> = {};
let total = 0;

describe.each(routes.map((r) => [`${r.methods.join('|')} ${r.path}`, r] as const))('%s', (_name, route) => {
  test(`${RUNS} generated requests: no 5xx, no stack trace, every 4xx names a field or the path`, async () => {
    const handler = httpHandler(route.fn);
    const seen = (statuses[route.path + ' ' + route.op] ??= {});
    await fc.assert(
      fc.asyncProperty(caseFor(route), async (c) => {
        if (++sinceSeed >= RESEED_EVERY) await seed();
        const res = (await handler(eventOf(route, c), context(route.fn))) as APIGatewayProxyResult;
        total++;
        seen[res.statusCode] = (seen[res.statusCode] ?? 0) + 1;
        const text = res.body ?? '';
        if (res.statusCode >= 400) collector.errorBody(res.statusCode, text);
        expect(res.statusCode).toBeLessThan(500);
        expect(text).not.toMatch(STACK);
        if (res.statusCode === 204) return;
        const body = JSON.parse(text) as { errors?: unknown };
        if (res.statusCode < 400) return;
        expect(Array.isArray(body.errors) && body.errors.length > 0).toBe(true);
        for (const m of body.errors as unknown[]) {
          expect(typeof m).toBe('string');
          if (!namesFieldOrPath(m as string, route, c)) throw new Error(`${res.statusCode} names no field or path: ${String(m)}`);
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.KUBELEASE_FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
  }, 600_000);
});

test('the fuzz counts', () => {
  expect(total).toBe(RUNS * routes.length);
  recordSummary('fuzz', { routes: routes.length, casesPerRoute: RUNS, cases: total, ...Object.fromEntries(Object.entries(statuses).map(([k, v]) => [k.replace(/\s+/g, '_'), Object.entries(v).map(([s, n]) => `${s}:${n}`).join(',')])) });
});
