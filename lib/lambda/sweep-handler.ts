import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { sweep, type SweepReport } from '../engine/sweep.js';
import { METRIC } from './metric-names.js';
import { deps } from './runtime.js';
import { logger, metrics, MetricUnit } from './observability.js';
import { tracingMiddleware } from './tracing.js';

/** Leaves this much of the Lambda timeout for reporting. */
const SAFETY_MS = 20_000;

export async function handleSweep(context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SweepReport> {
  const budget = Math.max(5_000, context.getRemainingTimeInMillis() - SAFETY_MS);
  // the deadline on the engine's clock, which is what the sweep checks it against
  const report = await sweep(deps(), { deadline: new Date(deps().clock.now().getTime() + budget) });
  metrics.addMetric(METRIC.sweptLeases, MetricUnit.Count, report.expiredLeases);
  metrics.addMetric(METRIC.orphansRemoved, MetricUnit.Count, report.orphansRemoved);
  metrics.addMetric(METRIC.sweepFailures, MetricUnit.Count, report.failures.length);
  metrics.addMetric(METRIC.liveLeases, MetricUnit.Count, report.liveLeases);
  if (report.expiredLeases > 0) metrics.addMetric(METRIC.sweepExpiryLag, MetricUnit.Seconds, report.maxExpiryLagSeconds);
  deps().audit?.record({ action: 'sweep', outcome: report.failures.length === 0 ? 'success' : 'error', detail: JSON.stringify({ ...report, failures: report.failures.length }) });
  if (report.failures.length > 0) logger.warn('sweep failures', { failures: report.failures.slice(0, 20) });
  return report;
}

export const sweepHandler = middy<ScheduledEvent, SweepReport>()
  .use(tracingMiddleware())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { throwOnEmptyMetrics: false }))
  .handler((_event, context) => handleSweep(context));
