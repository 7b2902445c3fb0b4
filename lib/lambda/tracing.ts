/**
 * X-Ray tracing through Powertools Tracer, only where the construct turned it on
 * (POWERTOOLS_TRACE_ENABLED=true, set by infra/broker-functions.ts). Off, the tracer module is
 * never evaluated (lazy import: it would add ~250 ms to a cold start) and nothing is wrapped.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';

export interface Tracing {
  tracer: Tracer;
  /** middy middleware: the handler segment, cold-start annotation, errors — never the response (it carries tokens) */
  middleware: MiddlewareObj;
}

export const tracingRequested = (env: NodeJS.ProcessEnv): boolean => env.POWERTOOLS_TRACE_ENABLED === 'true';

export async function loadTracing(env: NodeJS.ProcessEnv): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  // Kubernetes calls get their own subsegments (traced-kube.ts): no global http(s) patching,
  // which would also record every request URL.
  const tracer = new Tracer({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'kubelease', captureHTTPsRequests: false });
  return { tracer, middleware: captureLambdaHandler(tracer, { captureResponse: false }) };
}

/** This container's tracing, decided once at cold start. */
export const tracing: Tracing | undefined = await loadTracing(process.env);

/** For `middy().use(...)`: the tracer middleware, or nothing. */
export const tracingMiddleware = (): MiddlewareObj[] => (tracing ? [tracing.middleware] : []);
