/**
 * One place that turns whatever client-node / fetch throws into a KubeleaseError with a message
 * an operator can act on. Messages name the operation and the object, quote the apiserver's
 * Status message (whitespace-collapsed, truncated), and never contain request headers or tokens.
 */
import { KubeleaseError, type ErrorKind } from '../../domain/errors.js';
import { retryAfterMs, type RetryDecision } from '../retry.js';

/** What the broker was doing when the call failed (used only to word the message). */
export interface KubeOperation {
  /** Kubernetes verb as RBAC knows it: create, delete, get, list */
  verb: string;
  /** lower-case plural resource, optionally with subresource: `rolebindings`, `serviceaccounts/token` */
  resource: string;
  namespace?: string;
  name?: string;
  /** API server host, for connection errors */
  host?: string;
  /** request timeout in ms, for the timeout message */
  timeoutMs?: number;
}

interface StatusCause {
  field?: string;
  message?: string;
  reason?: string;
}
interface K8sStatus {
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: StatusCause[] };
}

const MAX_QUOTE = 400;

/** Collapses whitespace and truncates an apiserver message for quoting. */
export function quote(text: string, max = MAX_QUOTE): string {
  const flat = redact(text.replace(/\s+/g, ' ').trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Belt and braces: anything that looks like a bearer token or JWT is cut out of quoted text. */
function redact(text: string): string {
  return text
    .replace(/Bearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g, '[redacted-jwt]')
    .replace(/k8s-aws-v1\.[\w-]+/g, 'k8s-aws-v1.[redacted]');
}

/** Duck-typed client-node ApiException: `{ code: number, body: string | object }`. */
function apiStatus(err: unknown): { code: number; status: K8sStatus } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; body?: unknown };
  if (typeof e.code !== 'number' || e.code < 100 || e.code > 599) return undefined;
  let status: K8sStatus = {};
  if (typeof e.body === 'string') {
    try {
      const parsed: unknown = JSON.parse(e.body);
      if (parsed && typeof parsed === 'object') status = parsed as K8sStatus;
    } catch {
      if (e.body.trim()) status = { message: e.body };
    }
  } else if (e.body && typeof e.body === 'object') {
    status = e.body as K8sStatus;
  }
  return { code: e.code, status };
}

const singular = (resource: string): string => {
  const base = resource.split('/')[0] ?? resource;
  return base.endsWith('ies') ? `${base.slice(0, -3)}y` : base.replace(/s$/, '');
};

function where(op: KubeOperation): string {
  return op.namespace ? ` in namespace "${op.namespace}"` : ' (cluster-wide)';
}

function objectName(op: KubeOperation): string {
  if (op.resource === 'serviceaccounts/token') {
    return `a token for service account "${op.name ?? '?'}"`;
  }
  return `${singular(op.resource)}${op.name ? ` "${op.name}"` : ''}`;
}

function k8sSays(status: K8sStatus, fallback: string): string {
  return `(Kubernetes: ${quote(status.message || status.reason || fallback)})`;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|DEPTH_ZERO/;

/** Walks `cause` chains (fetch wraps the socket error in TypeError('fetch failed')). */
function causes(err: unknown): { name?: string; code?: string; message?: string }[] {
  const out: { name?: string; code?: string; message?: string }[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 6 && cur && typeof cur === 'object'; i++) {
    const c = cur as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
    out.push({
      name: typeof c.name === 'string' ? c.name : undefined,
      code: typeof c.code === 'string' ? c.code : undefined,
      message: typeof c.message === 'string' ? c.message : undefined,
    });
    cur = c.cause;
  }
  return out;
}

/**
 * Maps an error thrown by a client-node call to a KubeleaseError; an apiserver answer's status
 * rides along as `upstreamStatus`, for callers that react to one (never by reading the message).
 *
 * | apiserver / transport | kind |
 * |---|---|
 * | 400 BadRequest, 422 Invalid | invalid (with the field causes) |
 * | 401 | upstream: the cluster rejected the broker's credentials |
 * | 403 | upstream: the broker lacks permission to <verb> <resource> in namespace "x" |
 * | 404 on create / token | invalid: the referenced namespace / service account does not exist |
 * | 404 otherwise | not_found |
 * | 409 AlreadyExists on create, 409 on delete (uid precondition) | conflict |
 * | other 409 | upstream |
 * | 429, 503, 504, timeouts, connection errors | unavailable |
 * | TLS verification errors | upstream: check kubernetes_ca_cert |
 * | other 5xx, anything else | upstream |
 */
export function mapKubeError(err: unknown, op: KubeOperation): KubeleaseError {
  if (err instanceof KubeleaseError) return err;
  const api = apiStatus(err);
  if (api) return mapStatus(api.code, api.status, op);
  return mapTransport(err, op);
}

function mapStatus(code: number, status: K8sStatus, op: KubeOperation): KubeleaseError {
  const error = (kind: ErrorKind, errors: string | string[]) => new KubeleaseError(kind, errors, { upstreamStatus: code });
  const what = objectName(op);
  switch (code) {
    case 400:
      return error('invalid', `the cluster refused to ${op.verb} ${what}${where(op)}: ${quote(status.message || 'bad request')}`);
    case 401:
      return error(
        'upstream',
        "the cluster rejected the broker's credentials (401 Unauthorized): check service_account_jwt, or the EKS access entry / aws-auth mapping for the broker's IAM role",
      );
    case 403: {
      const msg = status.message ?? '';
      if (/attempting to grant RBAC permissions not currently held/i.test(msg)) {
        const isRole = op.resource === 'roles' || op.resource === 'clusterroles';
        const why = isRole
          ? 'its rules grant permissions the broker does not hold itself, and the broker lacks the "escalate" verb on roles'
          : 'it would grant permissions the broker does not hold itself, and the broker lacks the "bind" verb on the referenced role';
        return error('upstream', `the broker cannot ${op.verb} ${what}${where(op)}: ${why} ${k8sSays(status, 'forbidden')}`);
      }
      const resource = op.resource;
      return error(
        'upstream',
        `the broker lacks permission to ${op.verb} ${resource}${where(op)} ${k8sSays(status, 'forbidden')}`,
      );
    }
    case 404: {
      const missingKind = status.details?.kind;
      const missingName = status.details?.name;
      if (op.verb === 'create') {
        if (missingKind === 'namespaces') {
          return error('invalid', `namespace "${missingName ?? op.namespace ?? '?'}" does not exist in the cluster`);
        }
        if (op.resource === 'serviceaccounts/token') {
          return error(
            'invalid',
            `service account "${op.name ?? missingName ?? '?'}" does not exist in namespace "${op.namespace ?? '?'}"`,
          );
        }
        return error('invalid', `cannot create ${what}${where(op)}: ${quote(status.message || 'not found')}`);
      }
      return error('not_found', `${what}${where(op)} not found ${k8sSays(status, 'not found')}`);
    }
    case 409:
      if (status.reason === 'AlreadyExists') {
        return error('conflict', `${what} already exists${where(op)}`);
      }
      // a delete's uid precondition failed: the object was replaced (the guarded delete reads this)
      if (op.verb === 'delete') return error('conflict', `conflict on ${what}${where(op)} ${k8sSays(status, 'conflict')}`);
      // anything else is the cluster failing the broker, not something the caller can resolve
      return error('upstream', `the cluster answered 409 Conflict to ${op.verb} ${what}${where(op)} ${k8sSays(status, 'conflict')}`);
    case 422: {
      const list = (status.details?.causes ?? [])
        .map((c) => quote(`${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`, 200))
        .filter((s) => s.length > 0);
      const errors = list.length > 0 ? list : [quote(status.message || 'invalid')];
      return error('invalid', errors.map((e) => `the cluster refused ${what}: ${e}`));
    }
    case 429:
    case 503:
    case 504:
      return error('unavailable', `the cluster is overloaded or unavailable (${code}) while trying to ${op.verb} ${what} ${k8sSays(status, String(code))}`);
    default:
      return error('upstream', `the cluster answered ${code} to ${op.verb} ${what}${where(op)} ${k8sSays(status, String(code))}`);
  }
}

function mapTransport(err: unknown, op: KubeOperation): KubeleaseError {
  const chain = causes(err);
  const host = op.host ? ` at ${op.host}` : '';
  const timedOut = chain.some((c) => c.name === 'TimeoutError' || c.code === 'UND_ERR_CONNECT_TIMEOUT' || c.code === 'ETIMEDOUT');
  if (timedOut) {
    const secs = op.timeoutMs ? ` within ${op.timeoutMs / 1000} s` : '';
    return new KubeleaseError('unavailable', `the cluster${host} did not answer${secs} (${op.verb} ${op.resource})`, { cause: err });
  }
  const aborted = chain.some((c) => c.name === 'AbortError');
  if (aborted) {
    return new KubeleaseError('unavailable', `the request to the cluster${host} was aborted (${op.verb} ${op.resource})`, { cause: err });
  }
  const tls = chain.find((c) => c.code && TLS_CODE.test(c.code));
  if (tls) {
    return new KubeleaseError(
      'upstream',
      `TLS verification of the cluster${host} failed (${tls.code}): check kubernetes_ca_cert and kubernetes_host`,
      { cause: err },
    );
  }
  const net = chain.find((c) => c.code && NETWORK_CODES.has(c.code));
  if (net || chain.some((c) => c.message === 'fetch failed')) {
    const code = net?.code ?? chain.map((c) => c.code).find(Boolean) ?? 'network error';
    return new KubeleaseError('unavailable', `cannot reach the cluster${host} (${code})`, { cause: err });
  }
  const msg = chain[0]?.message ?? String(err);
  return new KubeleaseError('upstream', `unexpected error while trying to ${op.verb} ${op.resource}${host}: ${quote(msg, 200)}`, { cause: err });
}

/** True for an ApiException-like error with this HTTP status. */
export function hasStatus(err: unknown, code: number): boolean {
  return apiStatus(err)?.code === code;
}

/**
 * Whether a failed call may be made again (see lib/adapters/retry.ts), client-go's rules:
 * - 429 always (the apiserver refused before doing anything), after its Retry-After;
 * - 500/502/503/504 and a connection lost mid-call only for idempotent calls (reads, deletes
 *   with a uid precondition, TokenRequests, access reviews): a create may have been applied;
 * - a refused connection always (nothing was sent);
 * - never a timeout: the call already used its time, and callers wait on it.
 */
export function kubeRetryDecision(err: unknown, idempotent: boolean): RetryDecision {
  const api = apiStatus(err);
  if (api) {
    const afterMs = retryAfterMs(headerOf(err, 'retry-after'));
    if (api.code === 429 || (idempotent && [500, 502, 503, 504].includes(api.code))) {
      return afterMs === undefined ? { retry: true } : { retry: true, afterMs };
    }
    return { retry: false };
  }
  const chain = causes(err);
  if (chain.some((c) => c.name === 'TimeoutError' || c.name === 'AbortError' || c.code === 'UND_ERR_CONNECT_TIMEOUT')) return { retry: false };
  if (chain.some((c) => c.code === 'ECONNREFUSED')) return { retry: true };
  const lost = chain.some((c) => (c.code !== undefined && NETWORK_CODES.has(c.code)) || c.message === 'fetch failed');
  return { retry: idempotent && lost };
}

function headerOf(err: unknown, name: string): string | undefined {
  const headers = (err as { headers?: unknown }).headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === name && typeof v === 'string') return v;
  }
  return undefined;
}
