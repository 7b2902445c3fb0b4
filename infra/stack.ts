/**
 * KubeleaseStack: the broker as a stack of its own (the `npx cdk deploy` path, infra/app.ts).
 * Besides the construct's props it takes existing resources by id or ARN, as context keys
 * name them (infra/context.ts).
 */
import { Annotations, Aws, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { KubeleaseBroker, type KubeleaseBrokerProps } from './broker.js';

type ByReference = 'alarmTopic' | 'kmsKey' | 'domain' | 'vpc' | 'vpcSubnets' | 'securityGroups';

export interface KubeleaseStackProps extends StackProps {
  /** The construct's props; adminPrincipals defaults to a placeholder (synth warns). */
  broker: Omit<KubeleaseBrokerProps, 'adminPrincipals' | ByReference> & Partial<Pick<KubeleaseBrokerProps, ByReference>> & { adminPrincipals?: string[] };
  /** Existing SNS topic for alarm notifications. */
  alarmTopicArn?: string;
  /** Existing KMS key for service_account_jwt (instead of a new one). */
  kmsKeyArn?: string;
  /** Custom domain by certificate ARN (and hosted zone id + name for the alias record). */
  domain?: {
    domainName: string;
    certificateArn: string;
    basePath?: string;
    disableExecuteApiEndpoint?: boolean;
    hostedZone?: { hostedZoneId: string; zoneName: string };
  };
  /** Run the functions in this VPC (looked up at synth: needs the stack's account and region). */
  vpc?: { vpcId: string; subnetIds?: string[]; securityGroupIds?: string[] };
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
    this.broker = new KubeleaseBroker(this, 'Broker', { ...props.broker, adminPrincipals, ...this.references(props) });
  }

  private references(props: KubeleaseStackProps): Partial<Pick<KubeleaseBrokerProps, ByReference>> {
    const refs: Partial<Pick<KubeleaseBrokerProps, ByReference>> = {};
    if (props.alarmTopicArn) refs.alarmTopic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
    if (props.kmsKeyArn) refs.kmsKey = kms.Key.fromKeyArn(this, 'SecretsKey', props.kmsKeyArn);
    if (props.domain) {
      const d = props.domain;
      refs.domain = {
        domainName: d.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', d.certificateArn),
        ...(d.basePath ? { basePath: d.basePath } : {}),
        ...(d.disableExecuteApiEndpoint !== undefined ? { disableExecuteApiEndpoint: d.disableExecuteApiEndpoint } : {}),
        ...(d.hostedZone ? { hostedZone: route53.HostedZone.fromHostedZoneAttributes(this, 'HostedZone', d.hostedZone) } : {}),
      };
    }
    if (props.vpc) {
      const { vpcId, subnetIds, securityGroupIds } = props.vpc;
      refs.vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId });
      if (subnetIds) refs.vpcSubnets = { subnetFilters: [ec2.SubnetFilter.byIds(subnetIds)] };
      if (securityGroupIds) refs.securityGroups = securityGroupIds.map((sg, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, sg));
    }
    return refs;
  }
}
