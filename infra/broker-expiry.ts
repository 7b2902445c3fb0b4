/**
 * How leases end without a caller: the leases table's TTL deletes stream into the expire
 * function (failures land in a DLQ), and a schedule runs the sweep function as the backstop.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** On-failure destination of the leases stream → expire mapping. */
export function createExpireDeadLetterQueue(scope: Construct): sqs.Queue {
  const queue = new sqs.Queue(scope, 'ExpireDlq', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(
    queue,
    'AwsSolutions-SQS3',
    'This queue is itself the on-failure destination of the expire stream mapping; a DLQ for it would only hold copies of failure metadata.',
  );
  return queue;
}

/** Feeds TTL removals (and only those: not the broker's own deletes) of `leases` to `expire`. */
export function expireOnLeaseTtl(expire: lambda.Function, leases: dynamodb.ITable, deadLetterQueue: sqs.IQueue): void {
  expire.addEventSource(
    new DynamoEventSource(leases, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 10,
      bisectBatchOnError: true,
      retryAttempts: 5,
      // the sweeper catches anything older; a stuck record must not block the shard for a day
      maxRecordAge: Duration.hours(1),
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(deadLetterQueue),
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('REMOVE'),
          userIdentity: {
            type: lambda.FilterRule.isEqual('Service'),
            principalId: lambda.FilterRule.isEqual('dynamodb.amazonaws.com'),
          },
        }),
      ],
    }),
  );
}

export function scheduleSweep(scope: Construct, sweep: lambda.IFunction, every: Duration = Duration.minutes(5)): events.Rule {
  return new events.Rule(scope, 'SweepSchedule', {
    description: 'kubelease: sweep expired leases and orphaned objects',
    schedule: events.Schedule.rate(every),
    // the next run comes soon enough: no async retries piling up behind a slow sweep
    targets: [new targets.LambdaFunction(sweep, { retryAttempts: 0, maxEventAge: Duration.minutes(5) })],
  });
}
