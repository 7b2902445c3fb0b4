/** Signs a request the way an AWS SDK client does (header SigV4, service execute-api). */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LocalPrincipal } from '../../lib/local/credentials.js';

export interface SignOptions {
  method: string;
  url: URL;
  body?: string;
  /** extra headers to send (and sign) */
  headers?: Record<string, string>;
  region?: string;
  signingDate?: Date;
  /** the query to sign, when it must differ from how URLSearchParams reads url (e.g. a literal "+") */
  query?: Record<string, string | string[]>;
}

/** Headers for fetch(): signed for `p` (unsigned when undefined), without `host` (fetch sets it). */
export async function signedHeaders(p: LocalPrincipal | undefined, o: SignOptions): Promise<Record<string, string>> {
  let headers: Record<string, string> = {
    host: o.url.host,
    ...(o.headers ?? {}),
    ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
  };
  if (p) {
    const signer = new SignatureV4({
      credentials: { accessKeyId: p.access_key_id, secretAccessKey: p.secret_access_key, ...(p.session_token ? { sessionToken: p.session_token } : {}) },
      region: o.region ?? 'us-east-1',
      service: 'execute-api',
      sha256: Sha256,
    });
    const query: Record<string, string | string[]> = o.query ? { ...o.query } : {};
    if (!o.query) for (const k of new Set(o.url.searchParams.keys())) {
      const all = o.url.searchParams.getAll(k);
      query[k] = all.length === 1 ? (all[0] as string) : all;
    }
    const request = new HttpRequest({
      method: o.method,
      protocol: 'http:',
      hostname: o.url.hostname,
      port: Number(o.url.port),
      path: o.url.pathname,
      query,
      headers,
      ...(o.body !== undefined ? { body: o.body } : {}),
    });
    headers = (await signer.sign(request, o.signingDate ? { signingDate: o.signingDate } : {})).headers;
  }
  const { host: _host, ...rest } = headers;
  return rest;
}
