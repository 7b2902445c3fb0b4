/**
 * The one middy chain behind every API Lambda: API Gateway REST event → ApiRequest → engine →
 * Vault envelope, with the request's log line, audit record and metrics as middlewares
 * (http-middlewares.ts). Handlers in functions/ only name their function; no rules live here.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from '../http/api.js';
import { dispatch } from '../http/dispatch.js';
import { routes, type FunctionName } from '../http/routes.js';
import { deps } from './runtime.js';
import { auditRecord, requestLog, requestMetrics, type HttpContext, type HttpExchange } from './http-middlewares.js';
import { logger, metrics } from './observability.js';
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

/** Event → engine → answer; leaves the exchange on the context for the middlewares. */
const serve =
  (fn: FunctionName) =>
  async (event: APIGatewayProxyEvent, context: HttpContext): Promise<APIGatewayProxyResult> => {
    const started = Date.now();
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    const parsed = toApiRequest(fn, event, requestId);
    const exchange: HttpExchange = isResponse(parsed) ? { fn, started, res: parsed } : { fn, started, req: parsed, res: await dispatch(deps(), parsed) };
    context.exchange = exchange;
    return json(exchange.res.status, exchange.res.body);
  };

/**
 * Middy runs `after` hooks last-registered first: the log line's keys first (the audit record is
 * a log line that carries them), then the audit record, then the metrics, all before Powertools'
 * logMetrics flushes and injectLambdaContext resets the keys.
 */
const withRequestMiddlewares = (chain: MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult, Error, HttpContext>, fn: FunctionName) =>
  chain.use(requestMetrics()).use(auditRecord()).use(requestLog()).handler(serve(fn));

const plainChains = new Map<FunctionName, ReturnType<typeof withRequestMiddlewares>>();

/** The API handler with its request middlewares, without Lambda's tracing/logging/metrics wrappers (the local server, tests). */
export function handleHttp(fn: FunctionName, event: APIGatewayProxyEvent, context: Pick<Context, 'awsRequestId'>): Promise<APIGatewayProxyResult> {
  let chain = plainChains.get(fn);
  if (!chain) plainChains.set(fn, (chain = withRequestMiddlewares(middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, HttpContext>(), fn)));
  return chain(event, { ...context } as HttpContext);
}

export function httpHandler(fn: FunctionName) {
  return withRequestMiddlewares(
    middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, HttpContext>()
      .use(tracingMiddleware())
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(logMetrics(metrics, { throwOnEmptyMetrics: false })),
    fn,
  );
}
