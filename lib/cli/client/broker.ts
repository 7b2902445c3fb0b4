/**
 * The broker's Vault-compatible HTTP API, signed with SigV4. One retry on a clock-skew 403,
 * signing with the server's clock (its `Date` header). Non-2xx answers become one-line errors
 * carrying the server's message, the request id for 5xx, and a fix.
 */
import type { VaultEnvelope } from '../../http/api.js';
import { CliError } from '../core/errors.js';
import type { Endpoint } from './endpoint.js';
import { httpRequest, type HttpResponse } from './http.js';
import { Signer } from './signer.js';

export interface CredsData {
  service_account_name: string;
  service_account_namespace: string;
  service_account_token: string;
  /** additive fields (docs/api.md): the cluster a kubeconfig points at */
  kubernetes_host?: string;
  kubernetes_ca_cert?: string;
}

export interface LeaseInfo {
  id: string;
  issue_time: string;
  expire_time: string;
  ttl: number;
  role: string;
  namespace: string;
  service_account_name: string;
  caller: string;
  status: string;
}

export type Envelope<T> = Omit<VaultEnvelope, 'data'> & { data: T };

export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly errors: string[],
    message: string,
    fix: string,
  ) {
    super(message, 1, fix);
  }
}

const SKEW = /signature (expired|not yet current)|request time too skewed/i;

export interface BrokerOptions {
  endpoint: Endpoint;
  profile?: string | undefined;
  timeoutMs?: number;
}

export class Broker {
  readonly endpoint: Endpoint;
  private readonly signer: Signer;
  private readonly timeoutMs: number | undefined;

  constructor(o: BrokerOptions) {
    this.endpoint = o.endpoint;
    this.signer = new Signer(o.endpoint.region, o.profile);
    this.timeoutMs = o.timeoutMs;
  }

  /** `path` is the API path (`/v1/…`, with any query); the address's stage path is prefixed. */
  async call<T>(method: string, path: string, body?: unknown): Promise<Envelope<T> | undefined> {
    const url = new URL(this.endpoint.base + path);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'kubelease-cli' };
    if (text !== undefined) headers['content-type'] = 'application/json';
    const send = async (signingDate?: Date) => {
      const signed = await this.signer.sign({ method, url, headers, ...(text !== undefined ? { body: text } : {}), ...(signingDate ? { signingDate } : {}) });
      return httpRequest(url, { method, headers: signed, ...(text !== undefined ? { body: text } : {}), ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}) });
    };
    let res = await send();
    if (res.status === 403 && SKEW.test(res.body)) {
      const serverNow = Date.parse(String(res.headers.date ?? ''));
      if (Number.isFinite(serverNow)) res = await send(new Date(serverNow));
    }
    if (res.status === 204) return undefined;
    if (res.status >= 200 && res.status < 300) return parseJson(res) as Envelope<T>;
    throw apiError(method, path, res);
  }

  creds(mount: string, role: string, body: Record<string, unknown>): Promise<Envelope<CredsData>> {
    return this.call<CredsData>('POST', `/v1/${enc(mount)}/creds/${enc(role)}`, body).then(required);
  }

  leases(mount: string, role?: string): Promise<{ keys: string[]; key_info: Record<string, LeaseInfo> }> {
    const p = role ? `/v1/${enc(mount)}/leases/${enc(role)}?list=true` : `/v1/${enc(mount)}/leases?list=true`;
    return this.call<{ keys?: string[]; key_info?: Record<string, LeaseInfo> }>('GET', p).then((e) => ({ keys: e?.data.keys ?? [], key_info: e?.data.key_info ?? {} }));
  }

  lookup(leaseId: string): Promise<LeaseInfo> {
    return this.call<LeaseInfo>('PUT', '/v1/sys/leases/lookup', { lease_id: leaseId }).then((e) => required(e).data);
  }

  async revoke(leaseId: string): Promise<void> {
    await this.call('PUT', '/v1/sys/leases/revoke', { lease_id: leaseId });
  }
}

export const enc = encodeURIComponent;

function required<T>(e: Envelope<T> | undefined): Envelope<T> {
  if (!e) throw new CliError('the broker answered without a body', 1, 'check that --addr points at a kubelease broker');
  return e;
}

function parseJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new CliError(`the broker answered ${res.status} with a body that is not JSON`, 1, 'check that --addr points at a kubelease broker (and includes the stage path)');
  }
}

function apiError(method: string, path: string, res: HttpResponse): ApiError {
  let errors: string[] = [];
  try {
    const b = JSON.parse(res.body) as { errors?: unknown; message?: unknown; Message?: unknown };
    if (Array.isArray(b.errors)) errors = b.errors.map(String);
    else if (typeof b.message === 'string') errors = [b.message]; // API Gateway's own errors
    else if (typeof b.Message === 'string') errors = [b.Message];
  } catch {
    /* not JSON */
  }
  const requestId = res.headers['x-amzn-requestid'] ?? res.headers['x-amz-apigw-id'];
  const where = `${method} ${path.replace(/\?.*$/, '')}`;
  const detail = errors.length ? errors.join('; ').replace(/\.$/, '') : `HTTP ${res.status}`;
  const withId = res.status >= 500 && requestId ? ` (request id ${String(requestId)})` : '';
  return new ApiError(res.status, errors, `${where}: ${res.status} ${detail}${withId}`, fixFor(res.status, errors));
}

function fixFor(status: number, errors: string[]): string {
  const text = errors.join(' ');
  if (status === 403 && /security token|signature|access key|credential/i.test(text)) return 'check your AWS credentials and the signing region (--region)';
  if (status === 403) return 'check that your AWS identity may do this (the role\'s allowed_principals, or admin) and that you use the intended profile';
  if (status === 404) return 'check the mount, role or lease id (kubelease leases lists yours)';
  if (status === 400 || status === 422) return 'correct the field named in the message';
  if (status === 409) return 'see the message: the broker refused to change something in use';
  if (status === 429 || status >= 500) return 'retry later; if it persists, give the request id to the broker\'s admin';
  return 'check the request';
}
