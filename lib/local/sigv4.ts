/**
 * AWS Signature Version 4 verification for the local stack, standing in for API Gateway's
 * AWS_IAM authorization. The canonical request is rebuilt from exactly the headers the client
 * signed (a signed `date` header included) with the canonicalization of @smithy/signature-v4
 * (the signer of the AWS SDK for JavaScript), signed with the client's own date, region and
 * service, and the signatures are compared in constant time.
 *
 * Headers are authenticated before the body is read (authenticateHeaders): everything but the
 * payload is checked first, including the signature itself when the client declared the payload
 * hash in x-amz-content-sha256; `finish(body)` then checks the body.
 *
 * The path must be in canonical form already (no ".", ".." or empty segments: a signer would
 * normalise those away, so a signature would verify for another path); the query is read with
 * the local server's one parser (request-target.ts), "+" being a literal plus.
 *
 * Accepted:
 * - header form: `Authorization: AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/<region>/execute-api/aws4_request,
 *   SignedHeaders=host;x-amz-date[;...], Signature=<hex>` with an `x-amz-date` header (or, without
 *   one, a signed HTTP `Date` header, in ISO8601 basic form or as an HTTP date);
 * - presigned-URL form: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 *   X-Amz-SignedHeaders, X-Amz-Signature (and X-Amz-Security-Token) in the query.
 * Any region is accepted (there is only one local endpoint); the service must be execute-api.
 * The payload hash is computed from the body; an x-amz-content-sha256 header must match it.
 * Session credentials: a principal with a session token must send it as x-amz-security-token
 * (signed or not, as in AWS); a principal without one must not send any.
 * Errors carry API Gateway's messages, all with status 403.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { createScope, getCanonicalHeaders, getSigningKey, SignatureV4Base } from '@smithy/signature-v4';
import { BadRequestTarget, parseQueryString, pathProblem } from './request-target.js';

export const SIGV4_SERVICE = 'execute-api';
export const MAX_SKEW_SECONDS = 300;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export const MESSAGES = {
  missing: 'Missing Authentication Token',
  mismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  invalidToken: 'The security token included in the request is invalid.',
  contentSha: "The provided 'x-amz-content-sha256' header does not match what was computed.",
} as const;

export interface SigV4Secret {
  access_key_id: string;
  secret_access_key: string;
  session_token?: string;
}

/** The request as received, before any rewriting: raw path and query as on the wire. */
export interface IncomingSignedRequest {
  method: string;
  /** percent-encoded path without the query, e.g. /v1/local/roles */
  path: string;
  /** raw query string without `?` ('' when none) */
  query: string;
  /** lower-case names; repeated headers as arrays */
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

export type VerifyResult<P> =
  | { ok: true; principal: P; accessKeyId: string; region: string; presigned: boolean }
  | { ok: false; status: 403; message: string };

export interface VerifyOptions {
  now?: Date;
  maxSkewSeconds?: number;
  service?: string;
  /**
   * A presigned URL is valid this long after X-Amz-Date, whatever X-Amz-Expires says. STS
   * GetCallerIdentity works this way (900 s): aws-iam-authenticator relies on it for EKS tokens.
   */
  presignedLifetimeSeconds?: number;
}

const deny = (message: string): { ok: false; status: 403; message: string } => ({ ok: false, status: 403, message });

function header(req: Pick<IncomingSignedRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  // several lines of one header: values joined with commas, as SigV4's canonical form wants
  return Array.isArray(v) ? v.join(',') : v;
}

/** `a=b&c=d` → decoded map; repeated keys become arrays. Literal `+` stays `+` (as SigV4 canonicalizes it). */
export function parseQuery(raw: string): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(parseQueryString(raw)).map(([k, vs]) => [k, vs.length === 1 ? (vs[0] as string) : vs]));
}

/** `20240102T030405Z` → Date, or undefined when malformed. */
export function parseAmzDate(s: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? '');
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** An HTTP date (`Tue, 01 Dec 2026 04:51:00 GMT`), or undefined. */
function parseHttpDate(s: string): Date | undefined {
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(s)) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const amzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // compare equal-length digests so neither length nor content leaks through timing
  return timingSafeEqual(createHash('sha256').update(x).digest(), createHash('sha256').update(y).digest()) && x.length === y.length;
}

interface Parsed {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  date: Date;
  rawDate: string;
  presigned: boolean;
  expiresIn?: number;
  token?: string;
}

function parseCredential(credential: string): Omit<Parsed, 'signedHeaders' | 'signature' | 'date' | 'rawDate' | 'presigned'> | string {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    return `Credential should have 5 '/'-separated parts: <access key id>/<yyyymmdd>/<region>/${SIGV4_SERVICE}/aws4_request, got '${credential}'.`;
  }
  const [accessKeyId, shortDate, region, service, terminator] = parts as [string, string, string, string, string];
  if (terminator !== 'aws4_request') return `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`;
  return { accessKeyId, shortDate, region, service };
}

function parseHeaderAuth(req: Pick<IncomingSignedRequest, 'headers'>, authorization: string): Parsed | string {
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) return `Authorization header requires algorithm ${ALGORITHM}, got '${algorithm}'.`;
  const fields = new Map<string, string>();
  for (const kv of authorization.slice(space + 1).split(',')) {
    const eq = kv.indexOf('=');
    if (eq > 0) fields.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((f) => !fields.get(f));
  if (missing.length) return missing.map((f) => `Authorization header requires '${f}' parameter.`).join(' ');
  const cred = parseCredential(fields.get('Credential')!);
  if (typeof cred === 'string') return cred;
  // the request time: x-amz-date, else the HTTP Date header (SigV4 allows either)
  const source = header(req, 'x-amz-date') !== undefined ? 'x-amz-date' : header(req, 'date') !== undefined ? 'date' : undefined;
  if (source === undefined) return "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";
  const given = header(req, source)!;
  const date = parseAmzDate(given) ?? (source === 'date' ? parseHttpDate(given) : undefined);
  if (!date) return `${source === 'date' ? 'Date' : 'X-Amz-Date'} must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'${source === 'date' ? ' or an HTTP date' : ''}, got '${given}'.`;
  // the string to sign carries the time in ISO8601 basic form, whichever header held it
  const rawDate = amzDate(date);
  const signedHeaders = fields.get('SignedHeaders')!.split(';').map((h) => h.trim().toLowerCase());
  if (!signedHeaders.includes(source)) return `'${source}' must be a signed header.`;
  const token = header(req, 'x-amz-security-token');
  return { ...cred, signedHeaders, signature: fields.get('Signature')!, date, rawDate, presigned: false, ...(token !== undefined ? { token } : {}) };
}

function parsePresigned(query: Record<string, string | string[]>): Parsed | string {
  const one = (k: string): string | undefined => {
    const v = query[k];
    return Array.isArray(v) ? undefined : v;
  };
  const algorithm = one('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) return `X-Amz-Algorithm must be ${ALGORITHM}.`;
  const missing = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].filter((k) => !one(k));
  if (missing.length) return missing.map((k) => `Presigned URL requires the '${k}' query parameter.`).join(' ');
  const cred = parseCredential(one('X-Amz-Credential')!);
  if (typeof cred === 'string') return cred;
  const rawDate = one('X-Amz-Date')!;
  const date = parseAmzDate(rawDate);
  if (!date) return `X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z', got '${rawDate}'.`;
  const expiresIn = Number(one('X-Amz-Expires'));
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
    return `X-Amz-Expires must be an integer between 1 and ${MAX_PRESIGN_SECONDS} seconds.`;
  }
  const signedHeaders = one('X-Amz-SignedHeaders')!.split(';').map((h) => h.trim().toLowerCase());
  const token = one('X-Amz-Security-Token');
  return { ...cred, signedHeaders, signature: one('X-Amz-Signature')!, date, rawDate, presigned: true, expiresIn, ...(token !== undefined ? { token } : {}) };
}

/** The canonical request and its signature, with smithy's canonicalization (path, query, headers). */
class Canonicalizer extends SignatureV4Base {
  constructor() {
    super({ credentials: { accessKeyId: '', secretAccessKey: '' }, region: 'us-east-1', service: SIGV4_SERVICE, sha256: Sha256, uriEscapePath: true, applyChecksum: false });
  }

  async signature(
    secret: SigV4Secret,
    req: { method: string; path: string; query: Record<string, string | string[]>; headers: Record<string, string>; payloadHash: string },
    scope: { longDate: string; shortDate: string; region: string; service: string },
  ): Promise<string> {
    const request = new HttpRequest({ method: req.method, protocol: 'http:', hostname: '', path: req.path, query: req.query, headers: req.headers });
    const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(Object.keys(req.headers)));
    const canonical = this.createCanonicalRequest(request, canonicalHeaders, req.payloadHash);
    const stringToSign = await this.createStringToSign(scope.longDate, createScope(scope.shortDate, scope.region, scope.service), canonical, ALGORITHM);
    const key = await getSigningKey(Sha256, { accessKeyId: secret.access_key_id, secretAccessKey: secret.secret_access_key }, scope.shortDate, scope.region, scope.service);
    return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  }
}
const canonicalizer = new Canonicalizer();

const sha256Hex = (body: Uint8Array) => createHash('sha256').update(body).digest('hex');

/** The request line and headers: what is known before the body is read. */
export type SignedRequestHead = Omit<IncomingSignedRequest, 'body'>;

export type HeadCheck<P> =
  | { ok: true; principal: P; finish(body: Uint8Array): Promise<VerifyResult<P>> }
  | { ok: false; status: 403; message: string };

/**
 * Checks everything but the payload: credential scope, dates, key, session token, the signed
 * headers' presence, and the signature itself when x-amz-content-sha256 declares the payload
 * hash. A refusal here means the body never has to be read.
 */
export async function authenticateHeaders<P extends SigV4Secret>(
  req: SignedRequestHead,
  lookup: (accessKeyId: string) => P | undefined,
  options: VerifyOptions = {},
): Promise<HeadCheck<P>> {
  const signed = parseSignature(req);
  if (typeof signed === 'string') return deny(signed);
  const { parsed, query } = signed;
  const scopeProblem = checkScopeAndTime(parsed, options);
  if (scopeProblem) return deny(scopeProblem);
  const principal = lookup(parsed.accessKeyId);
  if (!principal || !sessionTokenMatches(principal, parsed)) return deny(MESSAGES.invalidToken);
  const headers = signedHeaderValues(req, parsed);
  if (!headers) return deny(MESSAGES.mismatch);
  return checkSignature(req, parsed, principal, query, headers);
}

/** The request target and the signature's fields, from the Authorization header or a presigned URL. */
function parseSignature(req: SignedRequestHead): { parsed: Parsed; query: Record<string, string | string[]> } | string {
  if (pathProblem(req.path)) return MESSAGES.mismatch;
  let query: Record<string, string | string[]>;
  try {
    query = parseQuery(req.query);
  } catch (e) {
    if (e instanceof BadRequestTarget) return MESSAGES.mismatch;
    throw e;
  }
  const authorization = header(req, 'authorization');
  let parsed: Parsed | string;
  if (authorization !== undefined && authorization.trim() !== '') parsed = parseHeaderAuth(req, authorization.trim());
  else if (query['X-Amz-Signature'] !== undefined || query['X-Amz-Algorithm'] !== undefined) parsed = parsePresigned(query);
  else return MESSAGES.missing;
  return typeof parsed === 'string' ? parsed : { parsed, query };
}

/** Service and date scope, `host` signed, and the time within the skew (or the presigned lifetime). */
function checkScopeAndTime(parsed: Parsed, options: VerifyOptions): string | undefined {
  const now = options.now ?? new Date();
  const skew = (options.maxSkewSeconds ?? MAX_SKEW_SECONDS) * 1000;
  const service = options.service ?? SIGV4_SERVICE;
  if (parsed.service !== service) return `Credential should be scoped to correct service: '${service}'.`;
  if (parsed.shortDate !== parsed.rawDate.slice(0, 8)) {
    return `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.shortDate}' != '${parsed.rawDate.slice(0, 8)}', from '${parsed.rawDate}'.`;
  }
  if (!parsed.signedHeaders.includes('host')) return "'Host' must be a signed header.";
  const t = parsed.date.getTime();
  if (t > now.getTime() + skew) {
    return `Signature not yet current: ${parsed.rawDate} is still later than ${amzDate(new Date(now.getTime() + skew))} (${amzDate(now)} + 5 min.)`;
  }
  if (parsed.presigned) {
    const expiry = t + (options.presignedLifetimeSeconds ?? parsed.expiresIn ?? 0) * 1000;
    if (now.getTime() > expiry) return `Signature expired: ${amzDate(new Date(expiry))} is now earlier than ${amzDate(now)}.`;
  } else if (t < now.getTime() - skew) {
    return `Signature expired: ${parsed.rawDate} is now earlier than ${amzDate(new Date(now.getTime() - skew))} (${amzDate(now)} - 5 min.)`;
  }
  return undefined;
}

/** Session credentials: the token must be presented and match; long-term keys take none. */
function sessionTokenMatches(principal: SigV4Secret, parsed: Parsed): boolean {
  if (principal.session_token !== undefined) return parsed.token !== undefined && safeEqual(parsed.token, principal.session_token);
  return parsed.token === undefined;
}

/** The signed headers' values; undefined when one is missing (a presigned URL may omit x-amz-date). */
function signedHeaderValues(req: SignedRequestHead, parsed: Parsed): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const v = header(req, name);
    if (v === undefined) {
      if (parsed.presigned && name === 'x-amz-date') continue;
      return undefined;
    }
    headers[name] = v;
  }
  return headers;
}

/**
 * The signature over the canonical request: now, against a declared x-amz-content-sha256 (the
 * body is later checked against that hash), or once the body is read.
 */
async function checkSignature<P extends SigV4Secret>(
  req: SignedRequestHead,
  signed: Parsed,
  principal: P,
  query: Record<string, string | string[]>,
  headers: Record<string, string>,
): Promise<HeadCheck<P>> {
  const success: VerifyResult<P> = { ok: true, principal, accessKeyId: signed.accessKeyId, region: signed.region, presigned: signed.presigned };
  const matches = async (payloadHash: string): Promise<boolean> => {
    let expected: string;
    try {
      expected = await canonicalizer.signature(
        principal,
        { method: req.method, path: req.path, query, headers, payloadHash },
        { longDate: signed.rawDate, shortDate: signed.shortDate, region: signed.region, service: signed.service },
      );
    } catch {
      return false;
    }
    return safeEqual(expected, signed.signature.toLowerCase());
  };

  const declared = header(req, 'x-amz-content-sha256');
  if (declared !== undefined) {
    if (!(await matches(declared))) return deny(MESSAGES.mismatch);
    return { ok: true, principal, finish: async (body) => (sha256Hex(body) === declared ? success : deny(MESSAGES.contentSha)) };
  }
  return { ok: true, principal, finish: async (body) => ((await matches(sha256Hex(body))) ? success : deny(MESSAGES.mismatch)) };
}

/** Verifies `req` (headers, then body); `lookup` returns the secret (and principal) of an access key id. */
export async function verifySigV4<P extends SigV4Secret>(
  req: IncomingSignedRequest,
  lookup: (accessKeyId: string) => P | undefined,
  options: VerifyOptions = {},
): Promise<VerifyResult<P>> {
  const head = await authenticateHeaders(req, lookup, options);
  return head.ok ? head.finish(req.body) : head;
}
