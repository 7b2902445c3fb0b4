/**
 * X-Ray tracing through Powertools Tracer, only where the construct turned it on
 * (POWERTOOLS_TRACE_ENABLED=true, set by infra/broker-functions.ts). Off, the tracer module is
 * never evaluated (lazy import: it would add ~250 ms to a cold start) and nothing is wrapped;
 * bundled at synth with tracing off, it is not even in the bundle (infra/bundling.ts).
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import { logger } from './observability.js';

export interface Tracing {
  tracer: Tracer;
  /** middy middleware: the handler segment, cold-start annotation, errors — never the response (it carries tokens) */
  middleware: MiddlewareObj;
}

export const tracingRequested = (env: NodeJS.ProcessEnv): boolean => env.POWERTOOLS_TRACE_ENABLED === 'true';

export async function loadTracing(env: NodeJS.ProcessEnv): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  try {
    const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ]);
    // Kubernetes calls get their own subsegments (traced-kube.ts): no global http(s) patching,
    // which would also record every request URL.
    const tracer = new Tracer({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'kubelease', captureHTTPsRequests: false });
    return { tracer, middleware: captureLambdaHandler(tracer, { captureResponse: false }) };
  } catch (err) {
    // tracing is for operators: a tracer that cannot start (a bundle built without it, see
    // infra/bundling.ts) must not take the broker down with it
    logger.warn(`tracing was requested but is off: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** This container's tracing, decided once at cold start. */
export const tracing: Tracing | undefined = await loadTracing(process.env);

/** For `middy().use(...)`: the tracer middleware, or nothing. */
export const tracingMiddleware = (): MiddlewareObj[] => (tracing ? [tracing.middleware] : []);
