/**
 * The format half of aws-iam-authenticator's `pkg/token` `Verify` (kubernetes-sigs/aws-iam-authenticator),
 * rule for rule and in its order: what EKS checks before it forwards a `k8s-aws-v1.` token's URL
 * to STS. The other half (STS checking the signature) is ./sts.ts. Constants are written out
 * here on purpose instead of being imported from the broker's token code: the emulation must not
 * move when the code under test moves.
 *
 * Go semantics kept where they decide acceptance: `len(token)` counts bytes, RawURLEncoding
 * (no padding, URL alphabet, CR/LF ignored), `url.Parse` (Host keeps an explicit port; Path is
 * unescaped), `url.ParseQuery` (`;` and bad escapes are errors, `+` is a space), `strconv.Atoi`,
 * `time.Parse("20060102T150405Z")`.
 */
import { STSClient } from '@aws-sdk/client-sts';

const V1_PREFIX = 'k8s-aws-v1.';
const MAX_TOKEN_LEN_BYTES = 1024 * 4;
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** presigned STS URLs are valid for 15 minutes after X-Amz-Date, regardless of X-Amz-Expires */
export const PRESIGNED_URL_EXPIRATION_SECONDS = 15 * 60;
const MAX_X_AMZ_EXPIRES = 900;

const PARAMETER_ALLOWLIST = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);

/** pkg/endpoints GetSTSPartitionDomain / GetSTSDualStackPartitionDomain */
const PARTITION_DOMAINS: Record<string, { domain: string; dualStack?: string }> = {
  aws: { domain: 'amazonaws.com', dualStack: 'api.aws' },
  'aws-cn': { domain: 'amazonaws.com.cn', dualStack: 'api.amazonwebservices.com.cn' },
  'aws-us-gov': { domain: 'amazonaws.com', dualStack: 'api.aws' },
  'aws-iso': { domain: 'c2s.ic.gov' },
  'aws-iso-b': { domain: 'sc2s.sgov.gov' },
  'aws-iso-e': { domain: 'cloud.adc-e.uk' },
  'aws-iso-f': { domain: 'csp.hci.ic.gov' },
  'aws-eusc': { domain: 'amazonaws.eu', dualStack: 'api.amazonwebservices.eu' },
};

export class FormatError extends Error {
  constructor(message: string) {
    super(`input token was not properly formatted: ${message}`);
    this.name = 'FormatError';
  }
}

export interface VerifierOptions {
  /** the partition the cluster lives in (`aws`, `aws-cn`, ...) */
  partition: string;
  /** the cluster's region: its STS hostnames are accepted even when the SDK does not know it */
  region: string;
}

/** What Verify hands to STS: the URL as the token carries it, and the parts it looked at. */
interface CheckedToken {
  /** `url.Parse(...).Host`: may carry a port (then it was rejected already) */
  host: string;
  /** raw (still escaped) query, as the GET to STS sends it */
  rawQuery: string;
  /** userinfo in the URL: Go's HTTP client sends it to STS as `Authorization: Basic` */
  basicAuth?: string;
  accessKeyId: string;
  signedAt: Date;
}

/** Go's strconv.Atoi for values that fit (anything else is out of range here anyway). */
function atoi(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** Go's time.Parse with layout 20060102T150405Z: exact digits, ranges checked, no extra text. */
function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  const roundTrips = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && se < 60;
  return roundTrips ? date : undefined;
}

/** base64.RawURLEncoding.DecodeString: URL alphabet, no padding, CR/LF skipped. */
function rawUrlBase64Decode(s: string): string {
  const body = s.replace(/[\r\n]/g, '');
  const bad = /[^A-Za-z0-9_-]/.exec(body);
  if (bad) throw new FormatError(`illegal base64 data at input byte ${bad.index}`);
  if (body.length % 4 === 1) throw new FormatError(`illegal base64 data at input byte ${body.length - 1}`);
  return Buffer.from(body, 'base64url').toString('latin1');
}

interface ParsedUrl {
  scheme: string;
  /** `user[:password]` before the host, as written */
  userinfo?: string;
  host: string;
  path: string;
  rawQuery: string;
}

/** net/url.Parse, the parts Verify reads. */
function parseUrl(raw: string): ParsedUrl {
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new FormatError('net/url: invalid control character in URL');
  const noFragment = raw.split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  const rest = q < 0 ? noFragment : noFragment.slice(0, q);
  const rawQuery = q < 0 ? '' : noFragment.slice(q + 1);
  const sm = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(rest);
  if (!sm) throw new FormatError(`parse ${JSON.stringify(raw.slice(0, 40))}: missing protocol scheme`);
  const scheme = (sm[1] ?? '').toLowerCase();
  let hier = sm[2] ?? '';
  let host = '';
  let userinfo: string | undefined;
  if (hier.startsWith('//')) {
    hier = hier.slice(2);
    const end = hier.search(/\//);
    const authority = end < 0 ? hier : hier.slice(0, end);
    hier = end < 0 ? '' : hier.slice(end);
    const at = authority.lastIndexOf('@');
    host = authority.slice(at + 1);
    if (at >= 0) userinfo = authority.slice(0, at);
  } else if (!hier.startsWith('/')) {
    return { scheme, host: '', path: '', rawQuery }; // opaque URL: no host
  }
  let path: string;
  try {
    path = decodeURIComponent(hier);
  } catch {
    throw new FormatError(`parse: invalid URL escape in path`);
  }
  return { scheme, host, path, rawQuery, ...(userinfo !== undefined ? { userinfo } : {}) };
}

/** net/url.ParseQuery: exact keys, repeated keys collected, first error reported. */
function parseQuery(raw: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  for (const part of raw.split('&')) {
    if (part.includes(';')) throw new FormatError('malformed query parameter');
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = unescape(eq < 0 ? part : part.slice(0, eq));
      value = eq < 0 ? '' : unescape(part.slice(eq + 1));
    } catch {
      throw new FormatError('malformed query parameter');
    }
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

let stsEndpoints: STSClient['config']['endpointProvider'] | undefined;

/** The hosts STS's own endpoint rules give for a region, with and without FIPS and dual-stack. */
function resolvedStsHosts(region: string): string[] {
  stsEndpoints ??= new STSClient({ region: 'us-east-1' }).config.endpointProvider;
  const hosts: string[] = [];
  for (const UseFIPS of [true, false]) {
    for (const UseDualStack of [true, false]) {
      try {
        hosts.push(stsEndpoints({ Region: region, UseFIPS, UseDualStack, UseGlobalEndpoint: false }).url.host);
      } catch {
        // no endpoint for this combination
      }
    }
  }
  return hosts;
}

const validRegion = (region: string) => /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(region);

function stsRegionOf(host: string): string {
  if (host === '') throw new FormatError(`could not parse region for pre-signed URL ${host}, host is empty`);
  const parts = host.split('.');
  if (parts.length < 3) throw new FormatError(`could not parse region for pre-signed URL ${host}, invalid host format: ${host}`);
  return host === 'sts.amazonaws.com' ? 'global' : (parts[1] as string);
}

/** tokenVerifier.verifySTSHostnameFormat */
export function verifyHost(host: string, opts: VerifierOptions): void {
  const domains = PARTITION_DOMAINS[opts.partition];
  if (!domains) throw new FormatError(`partition ${opts.partition} not valid`);
  const region = stsRegionOf(host);
  if (region === 'global') {
    if (opts.partition === 'aws') return;
    throw new FormatError(`global endpoint unsupported in partition ${opts.partition}`);
  }
  if (!validRegion(region)) throw new FormatError(`invalid region identifier format provided: ${region}`);
  const unexpected = new FormatError(`unexpected hostname "${host}" in pre-signed URL`);
  if (!resolvedStsHosts(region).includes(host)) {
    // regions the SDK does not know yet: the cluster's own region in the cluster's partition
    if (!validRegion(opts.region)) throw unexpected;
    const defaults = [`sts.${opts.region}.${domains.domain}`, ...(domains.dualStack ? [`sts.${opts.region}.${domains.dualStack}`] : [])];
    if (defaults.includes(host)) return;
    throw unexpected;
  }
  const parts = host.split('.');
  if (parts.length < 4) throw new FormatError(`invalid host format, too few labels: ${host}`);
  const actual = parts.slice(2).join('.');
  if (actual !== domains.domain && actual !== domains.dualStack) {
    throw new FormatError(`partition {${opts.partition}} does not support hostname ${host}`);
  }
}

/**
 * tokenVerifier.Verify up to the STS call. Throws FormatError naming the first rule broken;
 * returns what the STS call needs.
 */
export function checkToken(token: string, opts: VerifierOptions & { now: Date }): CheckedToken {
  if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_LEN_BYTES) throw new FormatError('token is too large');
  if (!token.startsWith(V1_PREFIX)) throw new FormatError(`token is missing expected "${V1_PREFIX}" prefix`);
  const url = parseUrl(rawUrlBase64Decode(token.slice(V1_PREFIX.length)));
  if (url.scheme !== 'https') throw new FormatError(`unexpected scheme "${url.scheme}" in pre-signed URL`);
  verifyHost(url.host, opts);
  if (url.path !== '/') throw new FormatError('unexpected path in pre-signed URL');

  const query = parseQuery(url.rawQuery);
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (seen.has(key.toLowerCase())) throw new FormatError(`duplicate query parameter found: "${key}"`);
    seen.add(key.toLowerCase());
  }
  const lower = new Map<string, string>();
  for (const [key, values] of query) {
    if (!PARAMETER_ALLOWLIST.has(key.toLowerCase())) throw new FormatError(`non-whitelisted query parameter "${key}"`);
    if (values.length !== 1) throw new FormatError('query parameter with multiple values not supported');
    lower.set(key.toLowerCase(), values[0] as string);
  }
  if (lower.get('action') !== 'GetCallerIdentity') throw new FormatError('unexpected action parameter in pre-signed URL');
  const signed = (lower.get('x-amz-signedheaders') ?? '').split(';');
  if (!signed.some((h) => h.toLowerCase() === CLUSTER_ID_HEADER)) {
    throw new FormatError(`client did not sign the ${CLUSTER_ID_HEADER} header in the pre-signed URL`);
  }
  const expires = atoi(lower.get('x-amz-expires') ?? '');
  if (expires === undefined || expires < 0 || expires > MAX_X_AMZ_EXPIRES) {
    throw new FormatError(`invalid X-Amz-Expires parameter in pre-signed URL: ${expires ?? 0}`);
  }
  const date = lower.get('x-amz-date') ?? '';
  if (date === '') throw new FormatError('X-Amz-Date parameter must be present in pre-signed URL');
  const accessKeyId = (lower.get('x-amz-credential') ?? '').split('/')[0] ?? '';
  const signedAt = parseAmzDate(date);
  if (!signedAt) throw new FormatError(`error parsing X-Amz-Date parameter ${date} into format 20060102T150405Z`);
  if (opts.now.getTime() > signedAt.getTime() + PRESIGNED_URL_EXPIRATION_SECONDS * 1000) {
    throw new FormatError(`X-Amz-Date parameter is expired (15 minute expiration) ${signedAt.toISOString()}`);
  }
  return {
    host: url.host,
    rawQuery: url.rawQuery,
    accessKeyId,
    signedAt,
    ...(url.userinfo !== undefined ? { basicAuth: Buffer.from(decodeURIComponent(url.userinfo), 'latin1').toString('base64') } : {}),
  };
}
