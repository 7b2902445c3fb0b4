import { Annotations, Aws, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { KubeleaseBroker, type KubeleaseBrokerProps } from './broker.js';

export interface KubeleaseStackProps extends StackProps {
  /** Everything but adminPrincipals is optional; see KubeleaseBrokerProps. */
  broker: Omit<KubeleaseBrokerProps, 'adminPrincipals'> & { adminPrincipals?: string[] };
  /** Existing SNS topic for alarm notifications. */
  alarmTopicArn?: string;
}

/** Placeholder admin when none is given: a role that probably does not exist, i.e. no admin yet. */
export const PLACEHOLDER_ADMIN = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/kubelease-admin`;

export class KubeleaseStack extends Stack {
  readonly broker: KubeleaseBroker;

  constructor(scope: Construct, id: string, props: KubeleaseStackProps) {
    super(scope, id, { description: 'kubelease: short-lived Kubernetes credentials for IAM principals', ...props });
    let adminPrincipals = props.broker.adminPrincipals ?? [];
    if (adminPrincipals.length === 0) {
      adminPrincipals = [PLACEHOLDER_ADMIN];
      Annotations.of(this).addWarningV2(
        'kubelease:placeholderAdmin',
        'No adminPrincipals given: using arn:<partition>:iam::<account>:role/kubelease-admin. Pass -c adminPrincipals=arn:...,arn:... (docs/deploy.md).',
      );
    }
    this.broker = new KubeleaseBroker(this, 'Broker', {
      ...props.broker,
      adminPrincipals,
      ...(props.alarmTopicArn ? { alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) } : {}),
    });
  }
}
