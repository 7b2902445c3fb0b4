/**
 * The local SigV4 verifier against requests signed the way the AWS SDK signs them
 * (@smithy/signature-v4), in both header and presigned-URL form.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { authenticateHeaders, MESSAGES, parseQuery, verifySigV4, type IncomingSignedRequest, type SigV4Secret } from '../../../lib/local/sigv4.js';

const admin: SigV4Secret & { name: string } = {
  name: 'admin',
  access_key_id: 'AKIAEXAMPLEADMIN0001',
  secret_access_key: 'adminsecretadminsecretadminsecretadminsec',
};
const ci: SigV4Secret & { name: string } = {
  name: 'ci',
  access_key_id: 'ASIAEXAMPLECI0000001',
  secret_access_key: 'cisecretcisecretcisecretcisecretcisecret',
  session_token: 'session-token-of-ci',
};
const keys = new Map([admin, ci].map((p) => [p.access_key_id, p]));
const lookup = (id: string) => keys.get(id);

const NOW = new Date('2026-03-04T05:06:07Z');
const HOST = '127.0.0.1:8200';

interface Req {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
}

function signer(p: SigV4Secret, opts: { region?: string; service?: string; sessionToken?: string | null } = {}) {
  const sessionToken = opts.sessionToken === null ? undefined : (opts.sessionToken ?? p.session_token);
  return new SignatureV4({
    credentials: { accessKeyId: p.access_key_id, secretAccessKey: p.secret_access_key, ...(sessionToken ? { sessionToken } : {}) },
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'execute-api',
    sha256: Sha256,
  });
}

function httpRequest(r: Req): HttpRequest {
  return new HttpRequest({
    method: r.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 8200,
    path: r.path ?? '/v1/local/creds/demo',
    query: r.query ?? {},
    headers: { host: HOST, 'content-type': 'application/json', ...r.headers },
    ...(r.body !== undefined ? { body: r.body } : {}),
  });
}

const queryString = (q: Record<string, string | string[] | null>) =>
  Object.entries(q)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v ?? '']).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`))
    .join('&');

/** What our server sees of a signed request */
function incoming(signed: HttpRequest, body = ''): IncomingSignedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  return { method: signed.method, path: signed.path, query: queryString(signed.query), headers, body: Buffer.from(body) };
}

async function signed(r: Req = {}, p: SigV4Secret = admin, opts: Parameters<typeof signer>[1] & { at?: Date } = {}) {
  const req = await signer(p, opts).sign(httpRequest(r), { signingDate: opts.at ?? NOW });
  return incoming(req as HttpRequest, r.body ?? '');
}

const verify = (req: IncomingSignedRequest, now = NOW) => verifySigV4(req, lookup, { now });

describe('verifySigV4, header form', () => {
  test('accepts a request signed by the AWS SDK signer and names the principal', async () => {
    const res = await verify(await signed({ body: '{"kubernetes_namespace":"default"}' }));
    expect(res).toMatchObject({ ok: true, accessKeyId: admin.access_key_id, region: 'us-east-1', presigned: false });
    expect(res.ok && res.principal.name).toBe('admin');
  });

  test('accepts any region, query strings, and clock skew within 5 minutes', async () => {
    const req = await signed({ method: 'GET', path: '/v1/local/roles', query: { list: 'true', b: 'x y+z' } }, admin, { region: 'eu-west-3' });
    expect((await verify(req, new Date(NOW.getTime() + 4 * 60_000))).ok).toBe(true);
    expect((await verify(req, new Date(NOW.getTime() - 4 * 60_000))).ok).toBe(true);
  });

  test('accepts session credentials with the matching token', async () => {
    const req = await signed({ body: '{}' }, ci);
    expect(req.headers['x-amz-security-token']).toBe(ci.session_token);
    const res = await verify(req);
    expect(res.ok && res.principal.name).toBe('ci');
  });

  test.each([
    ['body', (r: IncomingSignedRequest) => ({ ...r, body: Buffer.from('{"kubernetes_namespace":"kube-system"}') })],
    ['path', (r: IncomingSignedRequest) => ({ ...r, path: '/v1/local/creds/other' })],
    ['method', (r: IncomingSignedRequest) => ({ ...r, method: 'PUT' })],
    ['query', (r: IncomingSignedRequest) => ({ ...r, query: 'force=true' })],
    ['signed header', (r: IncomingSignedRequest) => ({ ...r, headers: { ...r.headers, host: '127.0.0.1:8201' } })],
    ['x-amz-date', (r: IncomingSignedRequest) => ({ ...r, headers: { ...r.headers, 'x-amz-date': '20260304T050608Z' } })],
  ])('rejects a tampered %s', async (_what, tamper) => {
    const req = await signed({ body: '{"kubernetes_namespace":"default"}' });
    const res = await verify(tamper(req));
    expect(res.ok).toBe(false);
    expect(!res.ok && res.status).toBe(403);
  });

  test('rejects a tampered body with the signature-mismatch message when no content hash header is sent', async () => {
    const req = await signed({ body: '{"a":1}' });
    delete req.headers['x-amz-content-sha256'];
    expect(await verify({ ...req, body: Buffer.from('{"a":2}') })).toEqual({ ok: false, status: 403, message: MESSAGES.mismatch });
  });

  test('rejects a stale or future date', async () => {
    const req = await signed();
    const late = await verify(req, new Date(NOW.getTime() + 6 * 60_000));
    expect(!late.ok && late.message).toMatch(/^Signature expired: 20260304T050607Z is now earlier than/);
    const early = await verify(req, new Date(NOW.getTime() - 6 * 60_000));
    expect(!early.ok && early.message).toMatch(/^Signature not yet current/);
  });

  test('rejects a wrong secret and an unknown key', async () => {
    const wrong = await signed({}, { ...admin, secret_access_key: 'not-the-secret' });
    expect(await verify(wrong)).toEqual({ ok: false, status: 403, message: MESSAGES.mismatch });
    const unknown = await signed({}, { ...admin, access_key_id: 'AKIAUNKNOWN000000000' });
    expect(await verify(unknown)).toEqual({ ok: false, status: 403, message: MESSAGES.invalidToken });
  });

  test('rejects a missing, wrong or superfluous session token', async () => {
    expect(await verify(await signed({}, ci, { sessionToken: null }))).toEqual({ ok: false, status: 403, message: MESSAGES.invalidToken });
    expect(await verify(await signed({}, ci, { sessionToken: 'other-token' }))).toEqual({ ok: false, status: 403, message: MESSAGES.invalidToken });
    expect(await verify(await signed({}, admin, { sessionToken: 'made-up' }))).toEqual({ ok: false, status: 403, message: MESSAGES.invalidToken });
  });

  test('rejects an unsigned request, another service, and a content hash that does not match the body', async () => {
    const bare: IncomingSignedRequest = { method: 'GET', path: '/v1/mounts', query: 'list=true', headers: { host: HOST }, body: Buffer.alloc(0) };
    expect(await verify(bare)).toEqual({ ok: false, status: 403, message: 'Missing Authentication Token' });
    const s3 = await verify(await signed({}, admin, { service: 's3' }));
    expect(!s3.ok && s3.message).toBe("Credential should be scoped to correct service: 'execute-api'.");
    // signed with a declared payload hash that is not the body's
    const declaredForOther = createHash('sha256').update('{}').digest('hex');
    const req = await signed({ body: '{"a":1}', headers: { 'x-amz-content-sha256': declaredForOther } });
    const res = await verify(req);
    expect(!res.ok && res.message).toBe(MESSAGES.contentSha);
    // a declared hash changed after signing breaks the signature, before any body is looked at
    const tampered = await verify({ ...(await signed({ body: '{}' })), headers: { ...req.headers, 'x-amz-content-sha256': 'ab'.repeat(32) } });
    expect(!tampered.ok && tampered.message).toBe(MESSAGES.mismatch);
  });

  test('headers are authenticated before the body: unknown keys and stale dates never reach finish()', async () => {
    const unknown = await signed({ body: '{}' }, { ...admin, access_key_id: 'AKIAUNKNOWN000000000' });
    const { body: _b, ...head } = unknown;
    expect(await authenticateHeaders(head, lookup, { now: NOW })).toEqual({ ok: false, status: 403, message: MESSAGES.invalidToken });
    const good = await signed({ body: '{"x":1}' });
    const { body: _g, ...goodHead } = good;
    const check = await authenticateHeaders(goodHead, lookup, { now: NOW });
    expect(check.ok).toBe(true);
    if (check.ok) {
      expect((await check.finish(Buffer.from('{"x":1}'))).ok).toBe(true);
      expect((await check.finish(Buffer.from('{"x":2}'))).ok).toBe(false);
    }
  });

  test('paths a signer would normalise do not verify', async () => {
    const req = await signed({ method: 'GET', path: '/v1/local/roles', query: { list: 'true' } });
    for (const path of ['/v1/local/roles/.', '/v1/local//roles', '/v1/local/roles/x/..', '/v1/local/roles/']) {
      expect(await verify({ ...req, path })).toEqual({ ok: false, status: 403, message: MESSAGES.mismatch });
    }
  });

  test('rejects malformed Authorization headers with a message naming the problem', async () => {
    const req = await signed();
    const res = await verify({ ...req, headers: { ...req.headers, authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20260304/us-east-1/execute-api/aws4_request' } });
    expect(!res.ok && res.message).toMatch(/requires 'SignedHeaders' parameter/);
  });
});

describe('verifySigV4, presigned form', () => {
  async function presigned(p: SigV4Secret, expiresIn = 300) {
    const req = await signer(p).presign(httpRequest({ method: 'GET', path: '/v1/mounts', query: { list: 'true' }, headers: {} }), {
      signingDate: NOW,
      expiresIn,
    });
    return incoming(req as HttpRequest);
  }

  test('accepts a presigned URL (with and without a session token) until it expires', async () => {
    expect(await verify(await presigned(admin))).toMatchObject({ ok: true, presigned: true });
    expect(await verify(await presigned(ci))).toMatchObject({ ok: true, presigned: true });
    const late = await verify(await presigned(admin, 60), new Date(NOW.getTime() + 61_000));
    expect(!late.ok && late.message).toMatch(/^Signature expired/);
  });

  test('rejects a presigned URL whose query was changed', async () => {
    const req = await presigned(admin);
    expect((await verify({ ...req, query: req.query.replace('list=true', 'list=false') })).ok).toBe(false);
  });
});

test('parseQuery keeps + literal and groups repeated keys', () => {
  expect(parseQuery('a=1&a=2&b=x+y&c=%2F&d')).toEqual({ a: ['1', '2'], b: 'x+y', c: '/', d: '' });
});
