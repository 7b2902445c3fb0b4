/**
 * The broker's CloudWatch dashboard: issuance rate and latency by role mode, API health,
 * failures by cause, live leases, expiry lag on both cleanup paths, sweep and expire results,
 * the functions, and the state of every alarm.
 */
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRIC } from '../lib/lambda/metric-names.js';
import { BROKER_FUNCTIONS, type BrokerFunctions } from './broker-functions.js';
import { apiMetric, brokerMetric, brokerSearch, PERIOD } from './broker-metrics.js';
import type { ResolvedBrokerProps } from './props.js';

export interface BrokerDashboardProps {
  props: ResolvedBrokerProps;
  api: apigw.RestApi;
  functions: BrokerFunctions;
  deadLetterQueue: sqs.Queue;
  alarms: cloudwatch.Alarm[];
}

const W = 12; // half of the 24-column grid
const H = 6;

export function createDashboard(scope: Construct, { props, api, functions, deadLetterQueue, alarms }: BrokerDashboardProps): cloudwatch.Dashboard {
  const ns = props.metricsNamespace;
  const m = (name: Parameters<typeof brokerMetric>[1], statistic: string, label: string) => brokerMetric(ns, name, statistic, { label });
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
    new cloudwatch.GraphWidget({ title, left, right, width: W, height: H, period: PERIOD, ...extra });
  const perFunction = (metric: (fn: BrokerFunctions[keyof BrokerFunctions]) => cloudwatch.Metric) =>
    BROKER_FUNCTIONS.map((fn) => metric(functions[fn]).with({ label: fn }));

  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard');
  dashboard.addWidgets(
    graph('Credentials issued by mode (per 5 min)', [brokerSearch(ns, METRIC.issued, 'mode', 'Sum', '')]),
    graph('Issue latency by mode (ms, p50 and p99)', [
      brokerSearch(ns, METRIC.issueLatency, 'mode', 'p50', 'p50'),
      brokerSearch(ns, METRIC.issueLatency, 'mode', 'p99', 'p99'),
    ]),
  );
  dashboard.addWidgets(
    graph('API requests and errors (per 5 min)', [apiMetric(api, 'Count', 'Sum'), apiMetric(api, '4XXError', 'Sum'), apiMetric(api, '5XXError', 'Sum')]),
    graph('API latency (ms)', [apiMetric(api, 'Latency', 'p50'), apiMetric(api, 'Latency', 'p99')]),
  );
  dashboard.addWidgets(
    graph('Failures by cause (per 5 min)', [brokerSearch(ns, METRIC.failures, 'cause', 'Sum', '')]),
    graph('Live leases (counted by each sweep)', [m(METRIC.liveLeases, 'Maximum', 'live leases')]),
  );
  dashboard.addWidgets(
    graph(
      'Expiry lag (s): lease expiry → objects deleted',
      [m(METRIC.expiryLag, 'p50', 'stream p50'), m(METRIC.expiryLag, 'Maximum', 'stream max'), m(METRIC.sweepExpiryLag, 'Maximum', 'sweep max')],
      [functions.expire.metric('IteratorAge', { statistic: 'Maximum', period: PERIOD, label: 'stream iterator age (ms)' })],
    ),
    graph(
      'Sweep and expire results (per 5 min)',
      [
        m(METRIC.sweptLeases, 'Sum', 'swept leases'),
        m(METRIC.orphansRemoved, 'Sum', 'orphans removed'),
        m(METRIC.sweepFailures, 'Sum', 'sweep failures'),
        m(METRIC.expired, 'Sum', 'expired (stream)'),
        m(METRIC.expireFailure, 'Sum', 'expire failures'),
      ],
      [deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD, label: 'expire DLQ depth' })],
    ),
  );
  dashboard.addWidgets(
    graph('Function errors and throttles', [
      ...perFunction((f) => f.metricErrors({ statistic: 'Sum', period: PERIOD })),
      ...perFunction((f) => f.metricThrottles({ statistic: 'Sum', period: PERIOD })).map((x, i) => x.with({ label: `${BROKER_FUNCTIONS[i]} throttles` })),
    ]),
    graph('Function duration p99 (ms)', perFunction((f) => f.metricDuration({ statistic: 'p99', period: PERIOD }))),
  );
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 4 }));
  return dashboard;
}
