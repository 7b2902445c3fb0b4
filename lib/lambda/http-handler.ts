/**
 * The one middy chain behind every API Lambda: API Gateway REST event → ApiRequest → engine →
 * Vault envelope. Handlers in functions/ only name their function; no rules live here.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { isKubeleaseError } from '../domain/errors.js';
import type { ApiRequest, ApiResponse } from '../http/api.js';
import { dispatch } from '../http/dispatch.js';
import { routes, type FunctionName } from '../http/routes.js';
import { METRIC } from './metric-names.js';
import { deps } from './runtime.js';
import { emitWith, logger, metrics, MetricUnit } from './observability.js';
import { tracingMiddleware } from './tracing.js';

const json = (status: number, body: unknown): APIGatewayProxyResult => ({
  statusCode: status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: body === undefined ? '' : JSON.stringify(body),
});

const fail = (status: number, message: string): ApiResponse => ({ status, body: { errors: [message] } });

/** Parses the event; an ApiResponse means the request never reaches the engine. */
export function toApiRequest(fn: FunctionName, event: APIGatewayProxyEvent, requestId: string): ApiRequest | ApiResponse {
  const method = event.httpMethod.toUpperCase();
  const route = routes.find((r) => r.fn === fn && r.path === event.resource && (r.methods as string[]).includes(method));
  if (!route) return fail(405, `${method} ${event.resource} is not served by the ${fn} function`);
  const arn = event.requestContext?.identity?.userArn;
  // names what to fix, like every other refusal: the signature the caller did not send
  if (!arn) return fail(403, 'Authorization: the request carries no IAM identity; sign it with AWS SigV4');
  let body: unknown = {};
  const raw = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (raw && raw.trim() !== '') {
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(400, 'body: not valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail(400, 'body: must be a JSON object');
  }
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  const pathParameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.pathParameters ?? {})) if (v !== undefined) pathParameters[k] = v;
  return { method, op: route.op, pathParameters, query, body, caller: { arn }, requestId };
}

const isResponse = (v: ApiRequest | ApiResponse): v is ApiResponse => 'status' in v;

function outcomeOf(status: number): 'success' | 'denied' | 'error' {
  if (status < 400) return 'success';
  return status === 401 || status === 403 ? 'denied' : 'error';
}

export async function handleHttp(
  fn: FunctionName,
  event: APIGatewayProxyEvent,
  context: Pick<Context, 'awsRequestId'>,
): Promise<APIGatewayProxyResult> {
  const started = Date.now();
  const requestId = event.requestContext?.requestId ?? context.awsRequestId;
  const parsed = toApiRequest(fn, event, requestId);
  const req = isResponse(parsed) ? undefined : parsed;
  const res = req ? await dispatch(deps(), req) : (parsed as ApiResponse);
  const op = req?.op ?? `${fn}.unrouted`;
  const mount = req?.pathParameters.mount;
  const role = req?.pathParameters.role ?? req?.pathParameters.name;
  const leaseId = leaseIdOf(res, req);
  logger.appendKeys({ request_id: requestId, op, caller: req?.caller.arn, mount, role, lease_id: leaseId });
  deps().audit?.record({
    action: `${req?.method ?? event.httpMethod} ${op}`,
    outcome: outcomeOf(res.status),
    ...(req ? { caller: req.caller.arn } : {}),
    ...(mount ? { mount } : {}),
    ...(role ? { role } : {}),
    ...(leaseId ? { lease_id: leaseId } : {}),
    ...(res.status >= 400 ? { detail: `${res.status}` } : {}),
  });
  if (res.status >= 500) logger.error('request failed', { status: res.status, error: describeError(res.error) });
  else if (res.status >= 400) logger.warn('request refused', { status: res.status, errors: errorsOf(res) });
  metrics.addDimensions({ op });
  metrics.addMetric(res.status < 400 ? METRIC.success : METRIC.failure, MetricUnit.Count, 1);
  if (res.status >= 400) emitWith({ cause: reasonOf(res) }, METRIC.failures, MetricUnit.Count, 1);
  if (op === 'creds' && res.status === 200) {
    const mode = { mode: res.mode ?? 'unknown' };
    emitWith(mode, METRIC.issued, MetricUnit.Count, 1);
    emitWith(mode, METRIC.issueLatency, MetricUnit.Milliseconds, Date.now() - started);
  }
  if (op === 'leases.revoke' && res.status < 300) metrics.addMetric(METRIC.revoked, MetricUnit.Count, 1);
  return json(res.status, res.body);
}

function leaseIdOf(res: ApiResponse, req: ApiRequest | undefined): string | undefined {
  const fromRes = (res.body as { lease_id?: unknown } | undefined)?.lease_id;
  if (typeof fromRes === 'string' && fromRes) return fromRes;
  const fromReq = (req?.body as { lease_id?: unknown } | undefined)?.lease_id;
  return typeof fromReq === 'string' ? fromReq : undefined;
}

const errorsOf = (res: ApiResponse) => (res.body as { errors?: string[] } | undefined)?.errors ?? [];
const reasonOf = (res: ApiResponse) => (isKubeleaseError(res.error) ? res.error.kind : `http${res.status}`);

/** Unknown errors: name and message only (stacks may hold request data), never the raw object. */
function describeError(err: unknown): Record<string, unknown> {
  if (isKubeleaseError(err)) return { kind: err.kind, errors: err.errors };
  if (err instanceof Error) return { name: err.name, message: err.message.slice(0, 500) };
  return { type: typeof err };
}

export function httpHandler(fn: FunctionName) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(tracingMiddleware())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { throwOnEmptyMetrics: false }))
    .handler((event, context) => handleHttp(fn, event, context));
}
