/**
 * EKS tokens with every knob the broker's token code does not have: another host, extra signed
 * query parameters, `x-k8s-aws-id` left unsigned, any X-Amz-Expires. Each is *correctly signed*
 * (@smithy/signature-v4), so a rejection can only come from the rule a test aims at, never from
 * a broken signature.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface EksUrlOptions {
  credentials: SigningCredentials;
  clusterId: string;
  /** credential scope region; default eu-west-1 */
  region?: string;
  /** default sts.<region>.amazonaws.com */
  host?: string;
  signedAt?: Date;
  /** extra query parameters, signed like the others */
  query?: Record<string, string>;
  /** sign the x-k8s-aws-id header (default true); false leaves it out altogether */
  signClusterId?: boolean;
  expiresIn?: number;
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export async function presignedUrl(o: EksUrlOptions): Promise<string> {
  const region = o.region ?? 'eu-west-1';
  const host = o.host ?? `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ service: 'sts', region, sha256: Sha256, credentials: o.credentials });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15', ...o.query },
    headers: { host, ...(o.signClusterId === false ? {} : { 'x-k8s-aws-id': o.clusterId }) },
  });
  const signed = await signer.presign(request, { expiresIn: o.expiresIn ?? 60, signingDate: o.signedAt ?? new Date() });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
    .join('&');
  return `https://${host}/?${query}`;
}

export const asToken = (url: string): string => `k8s-aws-v1.${Buffer.from(url, 'utf8').toString('base64url')}`;

export const urlOf = (token: string): string => Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8');

export async function eksToken(o: EksUrlOptions): Promise<string> {
  return asToken(await presignedUrl(o));
}

/** Replaces one query parameter's raw value in a token's URL (the signature is left as it was). */
export function withQueryValue(token: string, key: string, value: string): string {
  const url = urlOf(token).replace(new RegExp(`([?&]${key}=)[^&]*`), `$1${value}`);
  return asToken(url);
}
