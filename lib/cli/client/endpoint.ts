/**
 * Where the broker is and which region signs for it. Built-ins only (the exec plugin's cache
 * key uses the normalized address on its cache-hit path).
 */
import { CliError } from '../core/errors.js';

export interface Endpoint {
  /** normalized base URL without a trailing slash, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod */
  base: string;
  region: string;
}

const EXECUTE_API_HOST = /^[a-z0-9-]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/;
/** API Gateway accepts any region from a local stack; a real API needs its own. */
const LOOPBACK_DEFAULT_REGION = 'us-east-1';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** The address as given (flag or KUBELEASE_ADDR), checked and normalized. */
export function normalizeAddress(addr: string | undefined, env: NodeJS.ProcessEnv): string {
  const raw = (addr ?? env.KUBELEASE_ADDR ?? '').trim();
  if (!raw) throw new CliError('no broker address', 2, 'pass --addr URL or set KUBELEASE_ADDR (npm start prints the local one)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`broker address "${raw}" is not a URL`, 2, 'use e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliError(`broker address "${raw}" must be http(s)`, 2, 'use an https:// URL');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new CliError(`broker address "${raw}" uses plain http to a remote host: tokens would cross the network unencrypted`, 2, 'use https:// (http is only for 127.0.0.1/localhost)');
  }
  if (url.search || url.hash || url.username || url.password) throw new CliError(`broker address "${raw}" must not carry a query, fragment or user info`, 2, 'give only scheme, host and stage path');
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export function regionFor(base: string, region: string | undefined, env: NodeJS.ProcessEnv): string {
  const explicit = region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (explicit) return explicit;
  const host = new URL(base).hostname;
  const m = EXECUTE_API_HOST.exec(host);
  if (m) return m[1]!;
  if (isLoopbackHost(host)) return LOOPBACK_DEFAULT_REGION;
  throw new CliError(`cannot tell the signing region of ${host}`, 2, 'pass --region or set AWS_REGION');
}

export function resolveEndpoint(o: { addr?: string | undefined; region?: string | undefined }, env: NodeJS.ProcessEnv): Endpoint {
  const base = normalizeAddress(o.addr, env);
  return { base, region: regionFor(base, o.region, env) };
}
