/**
 * DynamoDB stream consumer: a lease item removed by TTL means its objects must go now.
 * The event source mapping filters to REMOVE by dynamodb.amazonaws.com; the same check runs
 * here so a manual delete or a revoke (which already cleaned up) is never acted on twice.
 * Powertools' batch processor reports each failed record (ReportBatchItemFailures): Lambda
 * retries from the first failed one, in order; ending a lease again is harmless.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { leaseFromImage } from '../adapters/dynamodb/lease-store.js';
import { isKubeleaseError } from '../domain/errors.js';
import { expireLease } from '../engine/leases.js';
import { METRIC } from './metric-names.js';
import { deps } from './runtime.js';
import { logger, metrics, MetricUnit } from './observability.js';
import { tracingMiddleware } from './tracing.js';

/** What DynamoDB's TTL deletion looks like on the stream (user deletes carry no identity). */
export const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;

export const isTtlRemoval = (r: DynamoDBRecord): boolean =>
  r.eventName === 'REMOVE' &&
  r.userIdentity?.type === TTL_IDENTITY.type &&
  r.userIdentity?.principalId === TTL_IDENTITY.principalId &&
  r.dynamodb?.OldImage !== undefined;

const leaseIdOf = (image: Record<string, AttributeValue> | undefined) => image?.lease_id?.S;

async function expireRecord(record: DynamoDBRecord): Promise<void> {
  if (!isTtlRemoval(record)) return;
  const image = record.dynamodb?.OldImage as Record<string, AttributeValue>;
  try {
    const lease = leaseFromImage(image);
    const { deleted } = await expireLease(deps(), lease);
    deps().audit?.record({ action: 'expire', lease_id: lease.lease_id, mount: lease.mount, role: lease.role, outcome: 'success', detail: `deleted ${deleted} object(s)` });
    metrics.addMetric(METRIC.expired, MetricUnit.Count, 1);
    metrics.addMetric(METRIC.expiryLag, MetricUnit.Seconds, Math.max(0, Math.floor(deps().clock.now().getTime() / 1000) - lease.expires_at));
  } catch (err) {
    metrics.addMetric(METRIC.expireFailure, MetricUnit.Count, 1);
    const error = err instanceof Error ? err.message : String(err);
    if (isKubeleaseError(err) && err.kind === 'unprocessable') {
      // An image (or its mount's config) broken in the console fails the same way on every
      // retry: retried, it would hold up every later record of the shard. Reported and
      // skipped; its objects, labeled and without a lease item, are the sweeper's orphans.
      logger.error('expire skipped an unreadable record', { sequence: record.dynamodb?.SequenceNumber, lease_id: leaseIdOf(image), error });
      return;
    }
    logger.error('expire failed', { sequence: record.dynamodb?.SequenceNumber, error });
    throw err;
  }
}

const processor = new BatchProcessor(EventType.DynamoDBStreams);

export function handleExpire(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  // in order, one at a time; a batch that fails whole is reported like a partial one
  return processPartialResponse(event, expireRecord, processor, { processInParallel: false, throwOnFullBatchFailure: false });
}

export const expireHandler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(tracingMiddleware())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { throwOnEmptyMetrics: false }))
  .handler((event) => handleExpire(event));
