/**
 * What every API request gets besides its answer, as middy middlewares around the handler: the
 * request's log line, its audit record and its metrics. Each reads the exchange the handler
 * leaves on the context (request, response, start time); none changes the response.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { isKubeleaseError } from '../domain/errors.js';
import type { ApiRequest, ApiResponse } from '../http/api.js';
import type { FunctionName } from '../http/routes.js';
import { METRIC } from './metric-names.js';
import { emitWith, logger, metrics, MetricUnit } from './observability.js';
import { deps } from './runtime.js';

/** One request as the handler saw it; `req` is missing when the event never reached the engine. */
export interface HttpExchange {
  fn: FunctionName;
  started: number;
  req?: ApiRequest;
  res: ApiResponse;
}

export type HttpContext = Context & { exchange?: HttpExchange };
type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, HttpContext>;

/** Facts every middleware names the same way. */
function factsOf({ fn, req, res }: HttpExchange) {
  return {
    op: req?.op ?? `${fn}.unrouted`,
    mount: req?.pathParameters.mount,
    role: req?.pathParameters.role ?? req?.pathParameters.name,
    leaseId: leaseIdOf(res, req),
  };
}

function leaseIdOf(res: ApiResponse, req: ApiRequest | undefined): string | undefined {
  const fromRes = (res.body as { lease_id?: unknown } | undefined)?.lease_id;
  if (typeof fromRes === 'string' && fromRes) return fromRes;
  const fromReq = (req?.body as { lease_id?: unknown } | undefined)?.lease_id;
  return typeof fromReq === 'string' ? fromReq : undefined;
}

const afterExchange =
  (name: string, run: (x: HttpExchange, event: APIGatewayProxyEvent) => void): HttpMiddleware => ({
    name,
    after: (request) => {
      const x = request.context.exchange;
      if (x) run(x, request.event);
    },
  });

/** The request's keys on every later log line; a warning for a 4xx, an error for a 5xx. */
export const requestLog = (): HttpMiddleware =>
  afterExchange('kubelease-request-log', (x) => {
    const { op, mount, role, leaseId } = factsOf(x);
    const { req, res } = x;
    logger.appendKeys({ request_id: req?.requestId, op, caller: req?.caller.arn, mount, role, lease_id: leaseId });
    if (res.status >= 500) logger.error('request failed', { status: res.status, error: describeError(res.error) });
    else if (res.status >= 400) logger.warn('request refused', { status: res.status, errors: errorsOf(res) });
  });

function outcomeOf(status: number): 'success' | 'denied' | 'error' {
  if (status < 400) return 'success';
  return status === 401 || status === 403 ? 'denied' : 'error';
}

/** One audit record per request, refusals included. */
export const auditRecord = (): HttpMiddleware =>
  afterExchange('kubelease-audit', (x, event) => {
    const { op, mount, role, leaseId } = factsOf(x);
    const { req, res } = x;
    deps().audit?.record({
      action: `${req?.method ?? event.httpMethod} ${op}`,
      outcome: outcomeOf(res.status),
      ...(req ? { caller: req.caller.arn } : {}),
      ...(mount ? { mount } : {}),
      ...(role ? { role } : {}),
      ...(leaseId ? { lease_id: leaseId } : {}),
      ...(res.status >= 400 ? { detail: `${res.status}` } : {}),
    });
  });

/** Success/failure per op, failures by cause, issuance count and latency by mode, revocations. */
export const requestMetrics = (): HttpMiddleware =>
  afterExchange('kubelease-metrics', (x) => {
    const { op } = factsOf(x);
    const { res } = x;
    metrics.addDimensions({ op });
    metrics.addMetric(res.status < 400 ? METRIC.success : METRIC.failure, MetricUnit.Count, 1);
    if (res.status >= 400) emitWith({ cause: reasonOf(res) }, METRIC.failures, MetricUnit.Count, 1);
    if (op === 'creds' && res.status === 200) {
      const mode = { mode: res.mode ?? 'unknown' };
      emitWith(mode, METRIC.issued, MetricUnit.Count, 1);
      emitWith(mode, METRIC.issueLatency, MetricUnit.Milliseconds, Date.now() - x.started);
    }
    if (op === 'leases.revoke' && res.status < 300) metrics.addMetric(METRIC.revoked, MetricUnit.Count, 1);
  });

const errorsOf = (res: ApiResponse) => (res.body as { errors?: string[] } | undefined)?.errors ?? [];
const reasonOf = (res: ApiResponse) => (isKubeleaseError(res.error) ? res.error.kind : `http${res.status}`);

/** Unknown errors: name and message only (stacks may hold request data), never the raw object. */
function describeError(err: unknown): Record<string, unknown> {
  if (isKubeleaseError(err)) return { kind: err.kind, errors: err.errors };
  if (err instanceof Error) return { name: err.name, message: err.message.slice(0, 500) };
  return { type: typeof err };
}
