/**
 * Cluster connection config (one per mount): input schema, partial-update merge and read view.
 *
 * Auth kinds: `service_account_jwt` (static token) or EKS (`eks_cluster_name` + `eks_region`,
 * optional `role_arn` and, with it, `external_id`; no stored secret). Exactly one must result. Rule for switching: a
 * request that sets the other kind must clear the current one with "" in the same request
 * (`"service_account_jwt": ""` to move to EKS, `"eks_cluster_name": ""` to move to a JWT);
 * leftover eks_region / role_arn / external_id are dropped with the EKS kind, a leftover
 * external_id with its role_arn. `kubernetes_host` is always
 * required (the broker does not call eks:DescribeCluster).
 */
import * as z from 'zod';
import { invalid } from './errors.js';
import { parseBool, quote, trimmedString as str } from './describe.js';
import { checkMountName, isAwsRegion, isIamRoleArn } from './names.js';
import { parseWith, viaParser } from './zod-issues.js';
import type { ClusterConfig } from './types.js';

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

export function parseKubernetesHost(v: unknown, field = 'kubernetes_host'): string {
  const s = str(v, field);
  if (s === '') return '';
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw invalid(`${field}: ${quote(s)} is not a URL (expected https://host[:port])`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname))) {
    throw invalid(`${field}: ${quote(s)} must use https (http is allowed only for 127.0.0.1 / localhost)`);
  }
  if (url.username || url.password) throw invalid(`${field}: must not contain credentials`);
  if (url.search || url.hash) throw invalid(`${field}: must not contain a query or fragment`);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

export function parseCaCert(v: unknown, field = 'kubernetes_ca_cert'): string {
  const s = str(v, field);
  if (s === '') return '';
  if (s.length > 1024 * 1024) throw invalid(`${field}: is too large`);
  const rest = s.replace(PEM_BLOCK, '').trim();
  const blocks = [...s.matchAll(PEM_BLOCK)];
  if (blocks.length === 0 || rest !== '') {
    throw invalid(`${field}: must be one or more PEM certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)`);
  }
  for (const [i, b] of blocks.entries()) {
    const body = (b[1] ?? '').replace(/\s+/g, '');
    if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
      throw invalid(`${field}: certificate ${i + 1} is not valid base64 PEM`);
    }
  }
  return `${s}\n`.replace(/\n+$/, '\n');
}

export function parseServiceAccountJwt(v: unknown, field = 'service_account_jwt'): string {
  const s = str(v, field);
  if (s === '') return '';
  if (s.length > 64 * 1024 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(s)) {
    throw invalid(`${field}: is not a JWT (three base64url parts separated by ".")`);
  }
  return s;
}

export function parseEksClusterName(v: unknown, field = 'eks_cluster_name'): string {
  const s = str(v, field);
  if (s !== '' && !/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(s)) {
    throw invalid(`${field}: ${quote(s)} is not a valid EKS cluster name (1-100 letters, digits, "-" or "_", starting with a letter or digit)`);
  }
  return s;
}

export function parseRegion(v: unknown, field = 'eks_region'): string {
  const s = str(v, field);
  if (s !== '' && !isAwsRegion(s)) throw invalid(`${field}: ${quote(s)} is not an AWS region (e.g. eu-west-1)`);
  return s;
}

export function parseRoleArn(v: unknown, field = 'role_arn'): string {
  const s = str(v, field);
  if (s !== '' && !isIamRoleArn(s)) throw invalid(`${field}: ${quote(s)} is not an IAM role ARN (arn:aws:iam::123456789012:role/name)`);
  return s;
}

/** sts:ExternalId: 2-1224 characters of letters, digits and `+=,.@:/-` (AWS's rule). */
export function parseExternalId(v: unknown, field = 'external_id'): string {
  const s = str(v, field);
  if (s !== '' && !/^[\w+=,.@:/-]{2,1224}$/.test(s)) {
    throw invalid(`${field}: must be 2-1224 characters of letters, digits and +=,.@:/- (the sts:ExternalId the role's trust policy expects)`);
  }
  return s;
}

const opt = <T>(fn: (v: unknown, field: string) => T, field: string) =>
  viaParser((v): T | undefined => (v === undefined || v === null ? undefined : fn(v, field)));

export const configInputSchema = z.strictObject({
  kubernetes_host: opt(parseKubernetesHost, 'kubernetes_host'),
  kubernetes_ca_cert: opt(parseCaCert, 'kubernetes_ca_cert'),
  service_account_jwt: opt(parseServiceAccountJwt, 'service_account_jwt'),
  eks_cluster_name: opt(parseEksClusterName, 'eks_cluster_name'),
  eks_region: opt(parseRegion, 'eks_region'),
  role_arn: opt(parseRoleArn, 'role_arn'),
  external_id: opt(parseExternalId, 'external_id'),
  disable_local_ca_jwt: opt((v, f) => parseBool(v, f) ?? false, 'disable_local_ca_jwt'),
});

interface FlatConfig {
  kubernetes_host: string;
  kubernetes_ca_cert: string;
  service_account_jwt: string;
  eks_cluster_name: string;
  eks_region: string;
  role_arn: string;
  external_id: string;
  disable_local_ca_jwt: boolean;
}

function flatten(c: ClusterConfig | undefined): FlatConfig {
  const flat: FlatConfig = {
    kubernetes_host: c?.kubernetes_host ?? '',
    kubernetes_ca_cert: c?.kubernetes_ca_cert ?? '',
    service_account_jwt: '',
    eks_cluster_name: '',
    eks_region: '',
    role_arn: '',
    external_id: '',
    disable_local_ca_jwt: c?.disable_local_ca_jwt ?? false,
  };
  if (c?.auth.kind === 'service_account_jwt') flat.service_account_jwt = c.auth.service_account_jwt;
  if (c?.auth.kind === 'eks') {
    flat.eks_cluster_name = c.auth.eks_cluster_name;
    flat.eks_region = c.auth.eks_region;
    flat.role_arn = c.auth.role_arn ?? '';
    flat.external_id = c.auth.external_id ?? '';
  }
  return flat;
}

/** Create (existing undefined) or partially update a config. Throws `invalid` naming fields. */
export function mergeConfig(mount: string, existing: ClusterConfig | undefined, input: unknown): ClusterConfig {
  checkMountName(mount);
  const p = parseWith(configInputSchema, input === undefined || input === null ? {} : input, 'config');
  const f = flatten(existing);
  const sent = new Set<keyof FlatConfig>();
  for (const k of Object.keys(f) as (keyof FlatConfig)[]) {
    const v = p[k];
    if (v !== undefined) {
      (f as unknown as Record<string, unknown>)[k] = v;
      sent.add(k);
    }
  }
  const errors: string[] = [];
  if (f.kubernetes_host === '') errors.push('kubernetes_host: required (https URL of the Kubernetes API server)');
  const jwt = f.service_account_jwt !== '';
  const eks = f.eks_cluster_name !== '';
  let auth: ClusterConfig['auth'] | undefined;
  if (jwt && eks) {
    if (existing?.auth.kind === 'service_account_jwt' && !sent.has('service_account_jwt')) {
      errors.push('eks_cluster_name: this config authenticates with service_account_jwt; send "service_account_jwt": "" in the same request to switch to EKS auth');
    } else if (existing?.auth.kind === 'eks' && !sent.has('eks_cluster_name')) {
      errors.push('service_account_jwt: this config authenticates with EKS (eks_cluster_name); send "eks_cluster_name": "" in the same request to switch to a service account JWT');
    } else errors.push('service_account_jwt, eks_cluster_name: set exactly one auth kind (service_account_jwt, or eks_cluster_name + eks_region)');
  } else if (jwt) {
    for (const k of ['eks_region', 'role_arn', 'external_id'] as const) {
      if (sent.has(k) && f[k] !== '') errors.push(`${k}: only applies to EKS auth (eks_cluster_name), not service_account_jwt`);
    }
    auth = { kind: 'service_account_jwt', service_account_jwt: f.service_account_jwt };
  } else if (eks) {
    if (f.eks_region === '') errors.push('eks_region: required with eks_cluster_name');
    auth = { kind: 'eks', eks_cluster_name: f.eks_cluster_name, eks_region: f.eks_region };
    if (f.role_arn !== '') auth.role_arn = f.role_arn;
    // a leftover external_id goes with a cleared role_arn; one sent without a role_arn is an error
    if (f.external_id !== '' && f.role_arn !== '') auth.external_id = f.external_id;
    else if (sent.has('external_id') && f.external_id !== '') errors.push('external_id: only applies with role_arn (it is sent with the AssumeRole of that role)');
  } else {
    for (const k of ['eks_region', 'role_arn', 'external_id'] as const) {
      if (sent.has(k) && f[k] !== '') errors.push(`${k}: only applies with eks_cluster_name`);
    }
    errors.push('service_account_jwt: one auth kind is required: service_account_jwt, or eks_cluster_name + eks_region (+ optional role_arn)');
  }
  if (errors.length || !auth) throw invalid(errors);
  return {
    mount,
    kubernetes_host: f.kubernetes_host,
    kubernetes_ca_cert: f.kubernetes_ca_cert,
    disable_local_ca_jwt: f.disable_local_ca_jwt,
    auth,
  };
}

/** The read shape: never the JWT; `auth_kind` says which kind is configured. */
export function configReadView(config: ClusterConfig): Record<string, unknown> {
  return {
    kubernetes_host: config.kubernetes_host,
    kubernetes_ca_cert: config.kubernetes_ca_cert,
    disable_local_ca_jwt: config.disable_local_ca_jwt,
    auth_kind: config.auth.kind,
    eks_cluster_name: config.auth.kind === 'eks' ? config.auth.eks_cluster_name : '',
    eks_region: config.auth.kind === 'eks' ? config.auth.eks_region : '',
    role_arn: config.auth.kind === 'eks' ? (config.auth.role_arn ?? '') : '',
    external_id: config.auth.kind === 'eks' ? (config.auth.external_id ?? '') : '',
  };
}
