/**
 * The authorization matrix, generated from the route table: every route and method × {admin,
 * caller allowed on the role, caller not on the role, caller from another account, unsigned,
 * expired signature} → the expected status. Requests go over real HTTP through the local server
 * (SigV4 checked as API Gateway's AWS_IAM auth would) to the Lambdas' handler, DynamoDB Local
 * and the test-bed apiserver. A route added to lib/http/routes.ts without a row here fails.
 */
import { localTableNames } from '../../lib/local/tables.js';
import { routes } from '../../lib/http/routes.js';
import { handleHttp } from '../../lib/lambda/http-handler.js';
import { logger } from '../../lib/lambda/observability.js';
import { setDeps } from '../../lib/lambda/runtime.js';
import { generateCredentials, principal, type LocalCredentials, type LocalPrincipal } from '../../lib/local/credentials.js';
import { startLocalServer, type LocalServer } from '../../lib/local/server.js';
import { loadBed, newNamespace, uniqueSuffix } from '../support/bed.js';
import { bedHandlerDeps } from '../support/handler-deps.js';
import { signedHeaders } from '../support/signed-fetch.js';

const CALLERS = ['admin', 'allowed', 'not on role', 'other account', 'unsigned', 'expired signature'] as const;
type Caller = (typeof CALLERS)[number];

const suffix = uniqueSuffix();
const MOUNT = `mx-${suffix}`;
const DOOMED_MOUNT = `mx-del-${suffix}`;
const names = localTableNames(`kl-mx-${suffix}`);
const bed = loadBed();
let ns: string;
let server: LocalServer;

const base = generateCredentials();
const extra = (name: string, arn: string, key: string, session?: string): LocalPrincipal => ({
  name,
  arn,
  iam_arn: arn,
  principal_id: `AIDA${key}`,
  access_key_id: `AKIA${key}`,
  secret_access_key: `${key}-secret-${uniqueSuffix(8)}`,
  ...(session ? { session_token: session } : {}),
});
const credentials: LocalCredentials = {
  ...base,
  principals: [
    ...base.principals,
    extra('stranger', 'arn:aws:iam::000000000000:user/mallory', 'MATRIXSTRANGER00'),
    extra('foreign', 'arn:aws:sts::999999999999:assumed-role/kubelease-ci/matrix', 'MATRIXFOREIGN000', `session-${uniqueSuffix()}`),
  ],
};
const who: Record<Caller, LocalPrincipal | undefined> = {
  admin: principal(credentials, 'admin'),
  allowed: principal(credentials, 'ci'),
  'not on role': principal(credentials, 'stranger'),
  'other account': principal(credentials, 'foreign'),
  unsigned: undefined,
  'expired signature': principal(credentials, 'admin'),
};

interface Res {
  status: number;
  body: Record<string, unknown>;
}

async function send(caller: Caller, method: string, pathAndQuery: string, body?: unknown): Promise<Res> {
  const url = new URL(server.url + pathAndQuery);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = await signedHeaders(who[caller], {
    method,
    url,
    ...(text !== undefined ? { body: text } : {}),
    ...(caller === 'expired signature' ? { signingDate: new Date(Date.now() - 15 * 60_000) } : {}),
  });
  const res = await fetch(url, { method, headers, ...(text !== undefined ? { body: text } : {}) });
  const raw = await res.text();
  return { status: res.status, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} };
}
const asAdmin = async (method: string, path: string, body?: unknown) => {
  const res = await send('admin', method, path, body);
  if (res.status >= 300) throw new Error(`fixture ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
};

const configBody = () => ({ kubernetes_host: bed.apiserver.url, kubernetes_ca_cert: bed.apiserver.caPem, service_account_jwt: bed.broker.token });
const roleBody = () => ({ allowed_kubernetes_namespaces: ns, service_account_name: 'default', token_default_ttl: '10m', allowed_principals: 'arn:aws:iam::000000000000:role/kubelease-ci' });
/** a lease of the allowed caller, for the lease rows */
async function ciLease(): Promise<string> {
  const res = await send('allowed', 'POST', `/v1/${MOUNT}/creds/matrix`, { kubernetes_namespace: ns });
  if (res.status !== 200) throw new Error(`fixture lease: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.lease_id as string;
}
let lookupLease: string;
const issuedLeases: string[] = [];

type Expect = Record<Caller, number>;
/** unsigned and expired requests never get past the SigV4 check */
const E = (admin: number, allowed: number, notOnRole: number, otherAccount: number): Expect => ({
  admin,
  allowed,
  'not on role': notOnRole,
  'other account': otherAccount,
  unsigned: 403,
  'expired signature': 403,
});

interface Row {
  /** concrete path and query */
  path: () => string;
  body?: () => unknown;
  setup?: () => Promise<void>;
  expect: Expect;
}

const creds: Row = { path: () => `/v1/${MOUNT}/creds/matrix`, body: () => ({ kubernetes_namespace: ns }), expect: E(200, 200, 403, 403) };
const lookup: Row = { path: () => '/v1/sys/leases/lookup', body: () => ({ lease_id: lookupLease }), expect: E(200, 200, 404, 404) };
let revokeTarget = '';
const revoke: Row = {
  path: () => '/v1/sys/leases/revoke',
  setup: async () => {
    revokeTarget = await ciLease();
    issuedLeases.push(revokeTarget);
  },
  body: () => ({ lease_id: revokeTarget }),
  expect: E(204, 204, 404, 404),
};
const roleWrite: Row = { path: () => `/v1/${MOUNT}/roles/matrix-written`, body: roleBody, expect: E(204, 403, 403, 403) };
const configWrite: Row = { path: () => `/v1/${MOUNT}/config`, body: configBody, expect: E(204, 403, 403, 403) };
const check: Row = { path: () => `/v1/${MOUNT}/roles/matrix/check`, body: () => ({ kubernetes_namespace: ns }), expect: E(200, 403, 403, 403) };

/** One row per (method, route path) of lib/http/routes.ts. */
const ROWS: Record<string, Row> = {
  'GET /v1/mounts': { path: () => '/v1/mounts?list=true', expect: E(200, 403, 403, 403) },
  'GET /v1/{mount}/config': { path: () => `/v1/${MOUNT}/config`, expect: E(200, 403, 403, 403) },
  'POST /v1/{mount}/config': configWrite,
  'PUT /v1/{mount}/config': configWrite,
  'DELETE /v1/{mount}/config': {
    path: () => `/v1/${DOOMED_MOUNT}/config`,
    setup: async () => void (await asAdmin('POST', `/v1/${DOOMED_MOUNT}/config`, configBody())),
    expect: E(204, 403, 403, 403),
  },
  'GET /v1/{mount}/roles': { path: () => `/v1/${MOUNT}/roles?list=true`, expect: E(200, 200, 200, 200) },
  'GET /v1/{mount}/roles/{name}': { path: () => `/v1/${MOUNT}/roles/matrix`, expect: E(200, 403, 403, 403) },
  'POST /v1/{mount}/roles/{name}': roleWrite,
  'PUT /v1/{mount}/roles/{name}': roleWrite,
  'DELETE /v1/{mount}/roles/{name}': {
    path: () => `/v1/${MOUNT}/roles/matrix-doomed`,
    setup: async () => void (await asAdmin('POST', `/v1/${MOUNT}/roles/matrix-doomed`, roleBody())),
    expect: E(204, 403, 403, 403),
  },
  'POST /v1/{mount}/roles/{name}/check': check,
  'PUT /v1/{mount}/roles/{name}/check': check,
  'POST /v1/{mount}/creds/{role}': creds,
  'PUT /v1/{mount}/creds/{role}': creds,
  'GET /v1/{mount}/leases': { path: () => `/v1/${MOUNT}/leases?list=true`, expect: E(200, 200, 200, 200) },
  'GET /v1/{mount}/leases/{role}': { path: () => `/v1/${MOUNT}/leases/matrix?list=true`, expect: E(200, 200, 200, 200) },
  'POST /v1/sys/leases/lookup': lookup,
  'PUT /v1/sys/leases/lookup': lookup,
  'POST /v1/sys/leases/revoke': revoke,
  'PUT /v1/sys/leases/revoke': revoke,
};

const routeKeys = routes.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`));
const cells = routeKeys.flatMap((key) => CALLERS.map((caller) => [key, caller] as const));

beforeAll(async () => {
  logger.setLogLevel('ERROR');
  setDeps(await bedHandlerDeps(names, who.admin!.arn));
  server = await startLocalServer({ credentials, port: 0, invoke: (fn, event, ctx) => handleHttp(fn, event, ctx) });
  ns = await newNamespace('kl-mx');
  await asAdmin('POST', `/v1/${MOUNT}/config`, configBody());
  await asAdmin('POST', `/v1/${MOUNT}/roles/matrix`, roleBody());
  lookupLease = await ciLease();
  issuedLeases.push(lookupLease);
});

afterAll(async () => {
  for (const leaseId of issuedLeases) await send('admin', 'PUT', '/v1/sys/leases/revoke', { lease_id: leaseId });
  await server?.close();
  setDeps(undefined);
});

test('every route of lib/http/routes.ts has a row, and every row a route', () => {
  expect(routeKeys.filter((k) => !ROWS[k])).toEqual([]);
  expect(Object.keys(ROWS).filter((k) => !routeKeys.includes(k))).toEqual([]);
});

test.each(cells)('%s as %s', async (key, caller) => {
  const row = ROWS[key];
  if (!row) throw new Error(`no row for ${key}: add it to ROWS`);
  await row.setup?.();
  const method = key.split(' ')[0]!;
  const res = await send(caller, method, row.path(), row.body?.());
  expect(res.status).toBe(row.expect[caller]);
  if (res.status === 200 && key.endsWith('/creds/{role}')) issuedLeases.push(res.body.lease_id as string);
  if (res.status >= 400) expect((res.body.errors as string[] | undefined)?.[0]).toBeTruthy();
});
