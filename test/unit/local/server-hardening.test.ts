/**
 * Issue 10, item 10: the local server's request handling, over real HTTP on a random loopback
 * port, with a recording fake in place of handleHttp. One parse of the request target serves
 * both the SigV4 check and routing; dot and empty segments are refused; `+` means the same to
 * both; a signed `date` header is honoured; headers are authenticated before the body is read;
 * idle and slow connections are timed out.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
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
const HEADERS_TIMEOUT_MS = 600;

beforeAll(async () => {
  server = await startLocalServer({
    credentials: creds,
    port: 0,
    bodyLimit: 1024,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: 2000,
    invoke: async (fn, event) => {
      calls.push({ fn, event });
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fn }) };
    },
  });
});
afterAll(() => server.close());
beforeEach(() => (calls.length = 0));

/** node:http keeps the path exactly as given (fetch would normalise "/." away). */
function rawRequest(method: string, target: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: target, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a socket, writes `data`, and reports what came back and when the server closed it. */
function socketSession(data: string, waitMs: number): Promise<{ received: string; closedAfterMs?: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let received = '';
    const sock = net.connect(server.port, '127.0.0.1', () => {
      if (data) sock.write(data);
    });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ received });
    }, waitMs);
    sock.setEncoding('utf8').on('data', (d: string) => (received += d));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closedAfterMs: Date.now() - started });
    });
  });
}

describe('one parser for the signature check and routing', () => {
  test('a signature for /roles does not verify for /roles/. (a role read): dot segments are refused', async () => {
    const url = new URL(`${server.url}/v1/local/roles?list=true`);
    const headers = await signedHeaders(ci, { method: 'GET', url });
    const dotted = await rawRequest('GET', '/v1/local/roles/.?list=true', { ...headers, host: url.host });
    expect(dotted.status).toBe(400);
    expect(dotted.text).toContain('path');
    const parent = await rawRequest('GET', '/v1/local/roles/x/..?list=true', { ...headers, host: url.host });
    expect(parent.status).toBe(400);
    expect(calls).toEqual([]);
    // the request that was signed still works
    expect((await rawRequest('GET', '/v1/local/roles?list=true', { ...headers, host: url.host })).status).toBe(200);
  });

  test('empty segments are refused too', async () => {
    const url = new URL(`${server.url}/v1/local/roles?list=true`);
    const headers = await signedHeaders(admin, { method: 'GET', url });
    for (const target of ['/v1/local//roles?list=true', '/v1//local/roles?list=true', '/v1/local/roles/?list=true']) {
      const res = await rawRequest('GET', target, { ...headers, host: url.host });
      expect([target, res.status]).toEqual([target, 400]);
    }
    expect(calls).toEqual([]);
  });

  test('a literal "+" in the query is a plus for the signature check and for the handler', async () => {
    const url = new URL(`${server.url}/v1/local/roles?list=true&x=a+b`);
    const headers = await signedHeaders(admin, { method: 'GET', url, query: { list: 'true', x: 'a+b' } });
    const res = await rawRequest('GET', '/v1/local/roles?list=true&x=a+b', { ...headers, host: url.host });
    expect(res.status).toBe(200);
    expect(calls[0]?.event.queryStringParameters).toEqual({ list: 'true', x: 'a+b' });
    expect(calls[0]?.event.multiValueQueryStringParameters).toEqual({ list: ['true'], x: ['a+b'] });
  });
});

/** SigV4 by hand (the AWS spec, not @smithy's signer, which drops a `date` header before signing). */
function signByHand(
  p: LocalPrincipal,
  req: { method: string; path: string; query: string; headers: Record<string, string>; body: string },
  when: Date,
  dateHeader: 'x-amz-date' | 'none' = 'x-amz-date',
) {
  const amzDate = when.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...req.headers,
    ...(dateHeader === 'x-amz-date' ? { 'x-amz-date': amzDate } : {}),
    ...(p.session_token ? { 'x-amz-security-token': p.session_token } : {}),
  };
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const canonical = [
    req.method,
    req.path,
    req.query,
    ...names.map((n) => `${n}:${headers[n]!.trim()}`),
    '',
    names.join(';'),
    createHash('sha256').update(req.body).digest('hex'),
  ].join('\n');
  const scope = `${day}/us-east-1/execute-api/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${p.secret_access_key}`).update(day).digest();
  for (const part of ['us-east-1', 'execute-api', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${p.access_key_id}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

test('a request that signs its `date` header (as the SigV4 spec allows) verifies', async () => {
  const now = new Date();
  const host = `127.0.0.1:${server.port}`;
  const body = '{"kubernetes_namespace":"default"}';
  const headers = signByHand(
    ci,
    { method: 'POST', path: '/v1/local/creds/demo', query: '', headers: { host, date: now.toUTCString(), 'content-type': 'application/json' }, body },
    now,
  );
  const res = await rawRequest('POST', '/v1/local/creds/demo', headers, body);
  expect(res.status).toBe(200);
  expect(calls[0]?.event.requestContext.identity.userArn).toBe(ci.arn);
  // and the hand signer agrees with the server when `date` is not signed
  const plain = signByHand(admin, { method: 'GET', path: '/v1/mounts', query: 'list=true', headers: { host }, body: '' }, now);
  expect((await rawRequest('GET', '/v1/mounts?list=true', plain)).status).toBe(200);
});

test('without x-amz-date, a signed `Date` header (ISO8601 basic or an HTTP date) carries the request time', async () => {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const host = `127.0.0.1:${server.port}`;
  const iso = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  for (const date of [iso, now.toUTCString()]) {
    const headers = signByHand(admin, { method: 'GET', path: '/v1/mounts', query: 'list=true', headers: { host, date }, body: '' }, now, 'none');
    expect([date, (await rawRequest('GET', '/v1/mounts?list=true', headers)).status]).toEqual([date, 200]);
  }
  const unsigned = signByHand(admin, { method: 'GET', path: '/v1/mounts', query: 'list=true', headers: { host }, body: '' }, now, 'none');
  const refused = await rawRequest('GET', '/v1/mounts?list=true', { ...unsigned, date: iso });
  expect(refused.status).toBe(403);
  expect(refused.text).toContain("'date' must be a signed header");
});

describe('headers are authenticated before the body is read', () => {
  test('an unsigned request that announces a body is refused without waiting for it', async () => {
    const session = await socketSession(`POST /v1/local/creds/demo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n`, 5000);
    expect(session.received).toMatch(/^HTTP\/1\.1 403/);
    expect(session.received).toContain('Missing Authentication Token');
    expect(session.closedAfterMs).toBeLessThan(4000);
  });

  test('so is a request signed with an unknown key or a stale date', async () => {
    const url = new URL(`${server.url}/v1/local/creds/demo`);
    for (const [who, date] of [
      [{ ...admin, access_key_id: 'AKIAUNKNOWN000000000' }, new Date()],
      [admin, new Date(Date.now() - 20 * 60_000)],
    ] as const) {
      const headers = await signedHeaders(who, { method: 'POST', url, body: '{"a":1}', signingDate: date });
      const lines = Object.entries({ ...headers, host: url.host, 'content-length': '900' }).map(([k, v]) => `${k}: ${v}`);
      const session = await socketSession(`POST /v1/local/creds/demo HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, 5000);
      expect(session.received).toMatch(/^HTTP\/1\.1 403/);
      expect(session.closedAfterMs).toBeLessThan(4000);
    }
    expect(calls).toEqual([]);
  });
});

describe('timeouts', () => {
  test('a connection that never sends a request is closed', async () => {
    const session = await socketSession('', 8000);
    expect(session.closedAfterMs).toBeDefined();
    expect(session.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
  });

  test('a request whose headers never finish is closed', async () => {
    const session = await socketSession('GET /v1/mounts?list=true HTTP/1.1\r\nHost: 127.0.0.1\r\n', 8000);
    expect(session.closedAfterMs).toBeDefined();
  });
});
