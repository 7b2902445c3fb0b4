/** Alarms (each notifying `alarmTopic`, when set, on ALARM and OK): expire DLQ depth, function errors. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BROKER_FUNCTIONS, capitalize, type BrokerFunctions } from './broker-functions.js';

export interface BrokerAlarmsProps {
  functions: BrokerFunctions;
  deadLetterQueue: sqs.Queue;
  alarmTopic?: sns.ITopic | undefined;
}

export function createAlarms(scope: Construct, { functions, deadLetterQueue, alarmTopic }: BrokerAlarmsProps): cloudwatch.Alarm[] {
  const alarms: cloudwatch.Alarm[] = [];
  const alarm = (id: string, props: cloudwatch.AlarmProps) => {
    const a = new cloudwatch.Alarm(scope, id, props);
    if (alarmTopic) {
      a.addAlarmAction(new cwActions.SnsAction(alarmTopic));
      a.addOkAction(new cwActions.SnsAction(alarmTopic));
    }
    alarms.push(a);
  };
  alarm('ExpireDlqAlarm', {
    alarmDescription: 'kubelease: stream records the expire function gave up on (the sweeper will clean up; investigate)',
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  for (const fn of BROKER_FUNCTIONS) {
    alarm(`${capitalize(fn)}ErrorsAlarm`, {
      alarmDescription: `kubelease ${fn}: unhandled errors (handled 4xx/5xx responses do not count)`,
      metric: functions[fn].metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
  return alarms;
}
