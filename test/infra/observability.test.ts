/**
 * Alarms and dashboard, with literal metric names, dimensions and thresholds: the names must be
 * the ones lib/lambda emits (test/unit/lambda/metrics.test.ts asserts the emitting side with the
 * same literals), or the alarms would watch metrics nobody writes.
 */
import { Duration } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { alarmsOf, buildConstruct, buildStack, fnId, logicalIdOf, ofType, only, type Built, type Json } from './support.js';

let shared: Built;
let tuned: Built;

beforeAll(() => {
  shared = buildStack();
  tuned = buildConstruct((stack) => ({
    alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true }),
    alarmThresholds: { api5xxPerPeriod: 3, apiLatencyP99Ms: 2500, iteratorAgeSeconds: 120 },
    sweepSchedule: Duration.minutes(15),
    dashboard: false,
    stageName: 'v',
  }));
}, 120_000);

const SERVICE = [{ Name: 'service', Value: 'kubelease' }];
const FUNCTIONS = ['Config', 'Roles', 'Creds', 'Leases', 'Expire', 'Sweep'];

describe('alarms', () => {
  test('the full set, by id', () => {
    expect(Object.keys(alarmsOf(shared)).sort()).toEqual(
      [
        'ExpireDlqAlarm',
        ...FUNCTIONS.map((f) => `${f}ErrorsAlarm`),
        ...FUNCTIONS.map((f) => `${f}ThrottlesAlarm`),
        'Api5xxAlarm',
        'ApiLatencyAlarm',
        'ExpireIteratorAgeAlarm',
        'ExpireFailureAlarm',
        'SweepFailuresAlarm',
        'SweepMissingAlarm',
      ].sort(),
    );
  });

  test('API Gateway 5XXError and p99 latency on the stage (handled 5xx never reach Lambda Errors)', () => {
    const a = alarmsOf(shared);
    const api = only(ofType(shared, 'AWS::ApiGateway::RestApi'))[0];
    const [stageId, stageRes] = only(ofType(shared, 'AWS::ApiGateway::Stage'));
    expect(stageRes.Properties.StageName).toBe('api');
    // ApiName is unique per deployment (two stages in one account must not share alarms)
    const stage = { ApiName: 'Kubelease-Broker-F05EE4B3', Stage: { Ref: stageId } };
    const dims = (x: Json) => Object.fromEntries((x.Dimensions as Json[]).map((d) => [d.Name, d.Value]));
    expect(a.Api5xxAlarm).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    expect(dims(a.Api5xxAlarm)).toEqual(stage);
    expect(a.ApiLatencyAlarm).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Latency', ExtendedStatistic: 'p99', Threshold: 5000, EvaluationPeriods: 3 });
    expect(dims(a.ApiLatencyAlarm)).toEqual(stage);
    expect(shared.resources[api].Properties.Name).toBe('Kubelease-Broker-F05EE4B3');
    const t = alarmsOf(tuned);
    expect(t.Api5xxAlarm).toMatchObject({ Threshold: 3 });
    expect(dims(t.Api5xxAlarm)).toEqual({ ApiName: 'Host-Broker-4597C510', Stage: { Ref: only(ofType(tuned, 'AWS::ApiGateway::Stage'))[0] } });
    expect(t.ApiLatencyAlarm).toMatchObject({ Threshold: 2500 });
  });

  test('throttles and errors of every function', () => {
    const a = alarmsOf(shared);
    for (const f of FUNCTIONS) {
      const fn = f.toLowerCase() as 'creds';
      for (const [kind, metric] of [
        ['Throttles', 'Throttles'],
        ['Errors', 'Errors'],
      ]) {
        expect(a[`${f}${kind}Alarm`]).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(shared, fn) } }],
          Statistic: 'Sum',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
        });
      }
    }
  });

  test("the expire mapping's iterator age", () => {
    expect(alarmsOf(shared).ExpireIteratorAgeAlarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(shared, 'expire') } }],
      Statistic: 'Maximum',
      Threshold: 600_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarmsOf(tuned).ExpireIteratorAgeAlarm).toMatchObject({ Threshold: 120_000 });
  });

  test("the handlers' own failure metrics: ExpireFailure and SweepFailures", () => {
    const a = alarmsOf(shared);
    expect(a.ExpireFailureAlarm).toMatchObject({
      Namespace: 'Kubelease/Kubelease',
      MetricName: 'ExpireFailure',
      Dimensions: SERVICE,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
    expect(a.SweepFailuresAlarm).toMatchObject({ Namespace: 'Kubelease/Kubelease', MetricName: 'SweepFailures', Dimensions: SERVICE, Statistic: 'Sum', Period: 300, Threshold: 0 });
    expect(alarmsOf(tuned).SweepFailuresAlarm).toMatchObject({ Namespace: 'Kubelease/Host', Period: 900 });
  });

  test('a sweeper that stops running alarms (missing data breaches)', () => {
    expect(alarmsOf(shared).SweepMissingAlarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(shared, 'sweep') } }],
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
    });
  });

  test('the alarm topic receives ALARM and OK, for every alarm; none without a topic', () => {
    const topicId = only(ofType(tuned, 'AWS::SNS::Topic'))[0];
    for (const [, a] of ofType(tuned, 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
    for (const [, a] of ofType(shared, 'AWS::CloudWatch::Alarm')) expect(a.Properties.AlarmActions).toBeUndefined();
  });
});

describe('dashboard', () => {
  const body = (b: Built): string => {
    const raw = only(ofType(b, 'AWS::CloudWatch::Dashboard'))[1].Properties.DashboardBody as Json;
    // Fn::Join of literal strings and references: keep the literals
    return (raw['Fn::Join'][1] as Json[]).map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`)).join('');
  };

  test('issuance rate and latency by mode, failures by cause (SEARCH over the emitted dimensions)', () => {
    const text = body(shared);
    expect(text).toContain(`SEARCH('{\\"Kubelease/Kubelease\\",mode,service} MetricName=\\"Issued\\" service=\\"kubelease\\"', 'Sum', 300)`);
    expect(text).toContain(`SEARCH('{\\"Kubelease/Kubelease\\",mode,service} MetricName=\\"IssueLatency\\" service=\\"kubelease\\"', 'p99', 300)`);
    expect(text).toContain(`SEARCH('{\\"Kubelease/Kubelease\\",cause,service} MetricName=\\"Failures\\" service=\\"kubelease\\"', 'Sum', 300)`);
  });

  test('live leases, expiry lag on both paths, sweep and expire results, the stream, the DLQ', () => {
    const text = body(shared);
    for (const metric of ['LiveLeases', 'ExpiryLag', 'SweepExpiryLag', 'SweptLeases', 'OrphansRemoved', 'SweepFailures', 'Expired', 'ExpireFailure']) {
      expect(text).toContain(`["Kubelease/Kubelease","${metric}","service","kubelease"`);
    }
    expect(text).toContain('"AWS/Lambda","IteratorAge","FunctionName"');
    expect(text).toContain('"AWS/SQS","ApproximateNumberOfMessagesVisible"');
    for (const title of ['Live leases', 'Expiry lag', 'Sweep and expire results', 'Failures by cause', 'Credentials issued by mode', 'Issue latency by mode']) {
      expect(text).toContain(title);
    }
    expect(text).toContain('"type":"alarm"');
    expect(logicalIdOf(shared, 'Dashboard', 'AWS::CloudWatch::Dashboard')).toBeDefined();
  });

  test('dashboard: false creates none', () => {
    expect(ofType(tuned, 'AWS::CloudWatch::Dashboard')).toHaveLength(0);
  });
});
