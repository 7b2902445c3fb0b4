/**
 * One error type crosses every layer; `kind` decides the HTTP status in lib/http.
 * Messages name the field and never contain secrets.
 */
export type ErrorKind =
  | 'invalid' // 400: bad request input
  | 'forbidden' // 403: caller not allowed
  | 'not_found' // 404
  | 'conflict' // 409: e.g. config delete with live leases
  | 'unprocessable' // 422: stored item (edited in the console) breaks a rule: fail closed
  | 'upstream' // 502: the target cluster or an AWS dependency refused or failed
  | 'unavailable'; // 503: dependency unreachable / timed out

export const statusOf: Record<ErrorKind, number> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  upstream: 502,
  unavailable: 503,
};

export interface KubeleaseErrorOptions {
  cause?: unknown;
  /** the HTTP status a dependency (the target cluster) answered, for code that reacts to it */
  upstreamStatus?: number;
}

export class KubeleaseError extends Error {
  readonly kind: ErrorKind;
  readonly errors: string[];
  readonly upstreamStatus?: number;
  constructor(kind: ErrorKind, errors: string | string[], options: KubeleaseErrorOptions = {}) {
    const list = Array.isArray(errors) ? errors : [errors];
    super(list.join('; '), options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'KubeleaseError';
    this.kind = kind;
    this.errors = list;
    if (options.upstreamStatus !== undefined) this.upstreamStatus = options.upstreamStatus;
  }
  get status(): number {
    return statusOf[this.kind];
  }
}

export const invalid = (errors: string | string[]) => new KubeleaseError('invalid', errors);
export const forbidden = (message: string) => new KubeleaseError('forbidden', message);
export const notFound = (message: string) => new KubeleaseError('not_found', message);
export const conflict = (message: string) => new KubeleaseError('conflict', message);
export const unprocessable = (errors: string | string[]) => new KubeleaseError('unprocessable', errors);
export const upstream = (message: string, cause?: unknown) => new KubeleaseError('upstream', message, { cause });

export const isKubeleaseError = (e: unknown): e is KubeleaseError => e instanceof KubeleaseError;
