/**
 * The local API Gateway stand-in with a recording fake in place of handleHttp: routing, the
 * event it builds, LIST, limits and SigV4 refusals, over real HTTP on a random loopback port.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { generateCredentials, principal, type LocalPrincipal } from '../../../lib/local/credentials.js';
import { startLocalServer, type LocalServer } from '../../../lib/local/server.js';
import { signedHeaders } from '../../support/signed-fetch.js';

const creds = generateCredentials();
const admin = principal(creds, 'admin');
const ci = principal(creds, 'ci');
const calls: { fn: string; event: APIGatewayProxyEvent }[] = [];
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer({
    credentials: creds,
    port: 0,
    bodyLimit: 1024,
    invoke: async (fn, event) => {
      calls.push({ fn, event });
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fn, resource: event.resource }) };
    },
  });
});
afterAll(() => server.close());
beforeEach(() => (calls.length = 0));

async function send(p: LocalPrincipal | undefined, method: string, pathAndQuery: string, body?: string, extra: Record<string, string> = {}) {
  const url = new URL(server.url + pathAndQuery);
  const headers = await signedHeaders(p, { method, url, headers: extra, ...(body !== undefined ? { body } : {}) });
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

test('a signed request reaches the route\'s function with the event API Gateway would send', async () => {
  const res = await send(admin, 'POST', '/v1/local/roles/demo%2Dx?x=1&x=2', '{"a":1}');
  expect(res.status).toBe(200);
  expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  expect(calls).toHaveLength(1);
  const { fn, event } = calls[0]!;
  expect(fn).toBe('roles');
  expect(event).toMatchObject({
    resource: '/v1/{mount}/roles/{name}',
    path: '/v1/local/roles/demo-x',
    httpMethod: 'POST',
    pathParameters: { mount: 'local', name: 'demo-x' },
    queryStringParameters: { x: '2' },
    multiValueQueryStringParameters: { x: ['1', '2'] },
    body: '{"a":1}',
    isBase64Encoded: false,
  });
  expect(event.requestContext.identity).toMatchObject({ userArn: admin.arn, accountId: '000000000000', caller: admin.principal_id, accessKey: admin.access_key_id });
  expect(event.requestContext.requestId).toBe(res.headers.get('x-amzn-requestid'));
});

test('session credentials report the assumed-role session ARN', async () => {
  const res = await send(ci, 'POST', '/v1/local/creds/demo', '{}');
  expect(res.status).toBe(200);
  expect(calls[0]?.event.requestContext.identity.userArn).toBe('arn:aws:sts::000000000000:assumed-role/kubelease-ci/local');
});

test('unknown path → 404, method not served → 405, oversized body → 413, all Vault-style', async () => {
  const r404 = await send(admin, 'GET', '/v1/local/nope/x');
  expect(r404).toMatchObject({ status: 404, body: { errors: [expect.stringContaining('unsupported path')] } });
  const r405 = await send(admin, 'DELETE', '/v1/local/creds/demo');
  expect(r405).toMatchObject({ status: 405, body: { errors: [expect.stringContaining('unsupported operation')] } });
  expect(r405.headers.get('allow')).toBe('POST, PUT');
  const r413 = await send(admin, 'POST', '/v1/local/config', JSON.stringify({ x: 'y'.repeat(2000) }));
  expect(r413.status).toBe(413);
  expect(calls).toHaveLength(0);
});

test('unsigned and badly signed requests get 403 like API Gateway and never reach a function', async () => {
  const unsigned = await send(undefined, 'GET', '/v1/mounts?list=true');
  expect(unsigned).toMatchObject({ status: 403, body: { errors: ['Missing Authentication Token'] } });
  expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  const wrong = await send({ ...admin, secret_access_key: 'wrong' }, 'GET', '/v1/mounts?list=true');
  expect(wrong).toMatchObject({ status: 403, body: { errors: [expect.stringMatching(/^The request signature we calculated does not match/)] } });
  expect(calls).toHaveLength(0);
});

/** Raw HTTP/1.1 over a socket: fetch refuses the LIST verb too. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1', () => sock.write(request));
    let out = '';
    sock.setEncoding('utf8').on('data', (d: string) => (out += d));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
}

test('LIST is served as GET ?list=true (and still needs a signature)', async () => {
  const res = await raw(`LIST /v1/local/roles HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
  expect(res).toMatch(/^HTTP\/1\.1 403/);
  expect(res).toContain('Missing Authentication Token');
  expect(res.toLowerCase()).toContain('connection: close');
});

const hasCurl = existsSync('/usr/bin/curl');
(hasCurl ? test : test.skip)('curl --aws-sigv4 requests verify, including -X LIST and a session token', async () => {
  const curl = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('curl', ['-sS', '-w', '\n%{http_code}', ...args], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
  const sig = ['--aws-sigv4', 'aws:amz:us-east-1:execute-api'];
  const post = await curl([...sig, '--user', `${admin.access_key_id}:${admin.secret_access_key}`, '-X', 'POST', `${server.url}/v1/local/creds/demo`, '-d', '{"kubernetes_namespace":"default"}']);
  expect(post.split('\n').pop()).toBe('200');
  expect(calls[0]?.event.body).toBe('{"kubernetes_namespace":"default"}');
  const list = await curl([...sig, '--user', `${admin.access_key_id}:${admin.secret_access_key}`, '-X', 'LIST', `${server.url}/v1/local/roles`]);
  expect(list.split('\n').pop()).toBe('200');
  expect(calls[1]?.event).toMatchObject({ httpMethod: 'GET', queryStringParameters: { list: 'true' }, resource: '/v1/{mount}/roles' });
  const session = await curl([...sig, '--user', `${ci.access_key_id}:${ci.secret_access_key}`, '-H', `x-amz-security-token: ${ci.session_token}`, `${server.url}/v1/local/leases?list=true`]);
  expect(session.split('\n').pop()).toBe('200');
  const bad = await curl([...sig, '--user', `${admin.access_key_id}:nope`, `${server.url}/v1/mounts?list=true`]);
  expect(bad.split('\n').pop()).toBe('403');
});

describe('request log lines', () => {
  test('drop presigned-URL credentials but keep the rest of the query', async () => {
    const { loggable } = await import('../../../lib/local/server.js');
    const line = loggable('/v1/local/roles?list=true&X-Amz-Credential=AKIA%2F20261125&X-Amz-Signature=abc&X-Amz-Security-Token=tok');
    expect(line).toBe('/v1/local/roles?list=true');
  });
});
