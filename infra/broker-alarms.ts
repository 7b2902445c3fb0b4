/**
 * Alarms (each notifying `alarmTopic`, when set, on ALARM and OK). Handled 5xx answers never
 * reach a Lambda `Errors` metric, so the API's own 5XXError and latency are watched too, and
 * the two cleanup paths through their failure metrics, the stream's iterator age and the
 * sweeper's heartbeat.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRIC } from '../lib/lambda/metric-names.js';
import { BROKER_FUNCTIONS, capitalize, type BrokerFunctions } from './broker-functions.js';
import { apiMetric, brokerMetric, PERIOD } from './broker-metrics.js';
import type { ResolvedBrokerProps } from './props.js';

export interface BrokerAlarmsProps {
  props: ResolvedBrokerProps;
  api: apigw.RestApi;
  functions: BrokerFunctions;
  deadLetterQueue: sqs.Queue;
}

const { GREATER_THAN_THRESHOLD, LESS_THAN_THRESHOLD } = cloudwatch.ComparisonOperator;
const { NOT_BREACHING, BREACHING } = cloudwatch.TreatMissingData;

export function createAlarms(scope: Construct, { props, api, functions, deadLetterQueue }: BrokerAlarmsProps): cloudwatch.Alarm[] {
  const alarms: cloudwatch.Alarm[] = [];
  const topic = props.alarmTopic;
  const alarm = (id: string, alarmProps: cloudwatch.AlarmProps) => {
    const a = new cloudwatch.Alarm(scope, id, alarmProps);
    if (topic) {
      a.addAlarmAction(new cwActions.SnsAction(topic));
      a.addOkAction(new cwActions.SnsAction(topic));
    }
    alarms.push(a);
  };
  const ns = props.metricsNamespace;
  const t = props.alarmThresholds;

  alarm('ExpireDlqAlarm', {
    alarmDescription: 'kubelease: stream records the expire function gave up on (the sweeper will clean up; investigate)',
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
    threshold: 0,
    comparisonOperator: GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: NOT_BREACHING,
  });
  for (const fn of BROKER_FUNCTIONS) {
    alarm(`${capitalize(fn)}ErrorsAlarm`, {
      alarmDescription: `kubelease ${fn}: unhandled errors (handled 4xx/5xx responses do not count: see Api5xxAlarm)`,
      metric: functions[fn].metricErrors({ period: PERIOD, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: NOT_BREACHING,
    });
    alarm(`${capitalize(fn)}ThrottlesAlarm`, {
      alarmDescription: `kubelease ${fn}: invocations throttled (concurrency limit reached)`,
      metric: functions[fn].metricThrottles({ period: PERIOD, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: NOT_BREACHING,
    });
  }
  alarm('Api5xxAlarm', {
    alarmDescription: 'kubelease API: 5xx answers (handled ones too: clusters, DynamoDB or KMS failing) in 2 of the last 3 periods',
    metric: apiMetric(api, '5XXError', 'Sum'),
    threshold: t.api5xxPerPeriod,
    comparisonOperator: GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: NOT_BREACHING,
  });
  alarm('ApiLatencyAlarm', {
    alarmDescription: `kubelease API: p99 latency above ${t.apiLatencyP99Ms} ms for 3 periods`,
    metric: apiMetric(api, 'Latency', 'p99'),
    threshold: t.apiLatencyP99Ms,
    comparisonOperator: GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: NOT_BREACHING,
  });
  alarm('ExpireIteratorAgeAlarm', {
    alarmDescription: `kubelease expire: the leases stream is more than ${t.iteratorAgeSeconds} s behind (TTL removals wait; the sweeper is the backstop)`,
    metric: functions.expire.metric('IteratorAge', { period: PERIOD, statistic: 'Maximum' }),
    threshold: t.iteratorAgeSeconds * 1000,
    comparisonOperator: GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: NOT_BREACHING,
  });
  alarm('ExpireFailureAlarm', {
    alarmDescription: 'kubelease expire: expiring leases failed in 2 of the last 3 periods (objects wait for the sweeper)',
    metric: brokerMetric(ns, METRIC.expireFailure, 'Sum'),
    threshold: 0,
    comparisonOperator: GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: NOT_BREACHING,
  });
  // one data point per run: look at whole schedule periods
  const sweepPeriod = Duration.seconds(Math.max(PERIOD.toSeconds(), props.sweepSchedule.toSeconds()));
  alarm('SweepFailuresAlarm', {
    alarmDescription: 'kubelease sweep: the last run could not end some leases or remove some orphans (see the sweep log)',
    metric: brokerMetric(ns, METRIC.sweepFailures, 'Sum', { period: sweepPeriod }),
    threshold: 0,
    comparisonOperator: GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: NOT_BREACHING,
  });
  alarm('SweepMissingAlarm', {
    alarmDescription: 'kubelease sweep: no run in 3 schedule periods (leases whose TTL removal is late stay live)',
    metric: functions.sweep.metricInvocations({ period: sweepPeriod, statistic: 'Sum' }),
    threshold: 1,
    comparisonOperator: LESS_THAN_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: BREACHING,
  });
  return alarms;
}
