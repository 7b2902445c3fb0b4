/** CloudWatch metrics of a deployed broker, for its alarms and dashboard. */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { METRIC} from '../lib/lambda/metric-names.js';
import { SERVICE_NAME } from '../lib/lambda/metric-names.js';

export const PERIOD = Duration.minutes(5);

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** One of the broker's own metrics (namespace per deployment, dimension `service`). */
export function brokerMetric(namespace: string, name: MetricName, statistic: string, options: { period?: Duration; label?: string } = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period: options.period ?? PERIOD,
    ...(options.label ? { label: options.label } : {}),
  });
}

/** Every series of `name` split by one extra dimension (mode, cause), found by a SEARCH expression. */
export function brokerSearch(namespace: string, name: MetricName, dimension: string, statistic: string, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{"${namespace}",${dimension},service} MetricName="${name}" service="${SERVICE_NAME}"', '${statistic}', ${PERIOD.toSeconds()})`,
    ...(label ? { label } : {}),
    period: PERIOD,
    usingMetrics: {},
  });
}

/** Stage-level API Gateway metrics (dimensions ApiName + Stage). */
export function apiMetric(api: apigw.RestApi, name: '5XXError' | '4XXError' | 'Count' | 'Latency', statistic: string): cloudwatch.Metric {
  return api.deploymentStage.metric(name, { statistic, period: PERIOD });
}
