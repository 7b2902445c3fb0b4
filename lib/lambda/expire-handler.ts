/**
 * DynamoDB stream consumer: a lease item removed by TTL means its objects must go now.
 * The event source mapping filters to REMOVE by dynamodb.amazonaws.com; the same check runs
 * here so a manual delete or a revoke (which already cleaned up) is never acted on twice.
 */
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

export const isTtlRemoval = (r: DynamoDBRecord): boolean =>
  r.eventName === 'REMOVE' &&
  r.userIdentity?.type === 'Service' &&
  r.userIdentity?.principalId === 'dynamodb.amazonaws.com' &&
  r.dynamodb?.OldImage !== undefined;

const leaseIdOf = (image: Record<string, AttributeValue>) => image.lease_id?.S;

export async function handleExpire(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    if (!isTtlRemoval(record)) continue;
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
        continue;
      }
      logger.error('expire failed', { sequence: record.dynamodb?.SequenceNumber, error });
      // Stop at the first failure: later records of the batch are retried after it, in order.
      failures.push({ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' });
      break;
    }
  }
  return { batchItemFailures: failures };
}

export const expireHandler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(tracingMiddleware())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { throwOnEmptyMetrics: false }))
  .handler((event) => handleExpire(event));
