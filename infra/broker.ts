/**
 * KubeleaseBroker: the whole deployed broker as one construct, importable from any CDK app
 * (`import { KubeleaseBroker } from 'kubelease/infra'`, infra/index.ts).
 *
 *   props → validated, defaults applied                                      props.ts
 *   REST API (AWS_IAM on every method, built from lib/http/routes.ts)       broker-api.ts
 *     → config / roles / creds / leases functions                           broker-functions.ts
 *   DynamoDB config · roles · leases (from lib/tables.ts)  broker-tables.ts
 *     leases stream (TTL REMOVE only) → expire function (DLQ on failure)    broker-expiry.ts
 *   EventBridge schedule → sweep function                                   broker-expiry.ts
 *   KMS key for the service_account_jwt envelope                            broker-tables.ts, broker-iam.ts
 *   optional VPC placement + endpoints                                      broker-network.ts
 *   alarms, dashboard, outputs                                              broker-alarms.ts, broker-dashboard.ts
 *
 * IAM: every function talks to target clusters (config: force delete revokes leases; roles:
 * check; creds; leases: revoke; expire; sweep), so every function holds the broker's
 * Kubernetes identity. See `executionRoles` for how that identity is laid out in IAM
 * (broker-iam.ts). cdk-nag acknowledgments sit next to what they cover (nag.ts).
 */
import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TableKey } from '../lib/tables.js';
import { createAlarms } from './broker-alarms.js';
import { createApi } from './broker-api.js';
import { createDashboard } from './broker-dashboard.js';
import { createExpireDeadLetterQueue, expireOnLeaseTtl, scheduleSweep } from './broker-expiry.js';
import { createFunctions, type BrokerFunction } from './broker-functions.js';
import { acknowledgeTracing, allowKeyUse, createExecutionRoles, grantVpcAccess } from './broker-iam.js';
import { createNetwork } from './broker-network.js';
import { createSecretsKey, createTables } from './broker-tables.js';
import { resolveBrokerProps, type KubeleaseBrokerProps, type ResolvedBrokerProps } from './props.js';

export { BROKER_FUNCTIONS, type BrokerFunction } from './broker-functions.js';
export { FUNCTION_ACCESS, MOUNT_CONTEXT_CONDITIONS } from './broker-iam.js';
export * from './props.js';

export class KubeleaseBroker extends Construct {
  readonly api: apigw.RestApi;
  /** The custom domain, when `domain` is set. */
  readonly domainName: apigw.DomainName | undefined;
  readonly tables: Record<TableKey, dynamodb.TableV2>;
  readonly key: kms.IKey;
  readonly functions: Record<BrokerFunction, lambda.Function>;
  /** The one IAM role target clusters must map (EKS access entry / aws-auth). */
  readonly clusterIdentity: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard | undefined;
  /** The functions' security groups, when they run in a VPC: allow them in each cluster's security group. */
  readonly securityGroups: ec2.ISecurityGroup[] | undefined;
  /** The props after validation, with every default applied. */
  readonly settings: ResolvedBrokerProps;

  constructor(scope: Construct, id: string, props: KubeleaseBrokerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const p = resolveBrokerProps(props, { path: this.node.path, stackName: stack.stackName, region: stack.region });
    this.settings = p;
    const retention = { retain: p.removalPolicy === RemovalPolicy.RETAIN, removalPolicy: p.removalPolicy };

    // Creation order is template order: keep it when moving things around.
    const ownKey = p.kmsKey ? undefined : createSecretsKey(this, retention);
    this.key = p.kmsKey ?? (ownKey as kms.Key);
    this.tables = createTables(this, retention);
    this.deadLetterQueue = createExpireDeadLetterQueue(this);

    const { roles, clusterIdentity } = createExecutionRoles(this, { props: p, tables: this.tables, key: this.key });
    if (ownKey) allowKeyUse(ownKey, roles);
    this.clusterIdentity = clusterIdentity;
    const network = p.vpc ? createNetwork(this, p.vpc) : undefined;
    this.securityGroups = network?.securityGroups;
    this.functions = createFunctions(this, { props: p, roles, key: this.key, tables: this.tables, securityGroups: network?.securityGroups });
    if (p.vpc) grantVpcAccess(roles);
    if (p.tracing) acknowledgeTracing(roles);

    expireOnLeaseTtl(this.functions.expire, this.tables.leases, this.deadLetterQueue);
    scheduleSweep(this, this.functions.sweep, p.sweepSchedule);

    const { api, domain } = createApi(this, { props: p, functions: this.functions });
    this.api = api;
    this.domainName = domain;

    this.alarms = createAlarms(this, { props: p, api, functions: this.functions, deadLetterQueue: this.deadLetterQueue });
    this.dashboard = p.dashboard
      ? createDashboard(this, { props: p, api, functions: this.functions, deadLetterQueue: this.deadLetterQueue, alarms: this.alarms })
      : undefined;
    this.addOutputs();
  }

  private addOutputs(): void {
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'VAULT_ADDR-style base URL (paths start with v1/)' });
    if (this.domainName) {
      const d = this.settings.domain as NonNullable<ResolvedBrokerProps['domain']>;
      new CfnOutput(this, 'DomainUrl', { value: `https://${d.domainName}${d.basePath ? `/${d.basePath}` : ''}/`, description: 'VAULT_ADDR for the custom domain' });
      new CfnOutput(this, 'DomainTarget', {
        value: this.domainName.domainNameAliasDomainName,
        description: 'Point the custom domain here (CNAME, or alias A record with the DomainHostedZoneId)',
      });
      new CfnOutput(this, 'DomainHostedZoneId', { value: this.domainName.domainNameAliasHostedZoneId });
    }
    new CfnOutput(this, 'ConfigTableName', { value: this.tables.config.tableName });
    new CfnOutput(this, 'RolesTableName', { value: this.tables.roles.tableName });
    new CfnOutput(this, 'LeasesTableName', { value: this.tables.leases.tableName });
    new CfnOutput(this, 'BrokerRoleArn', {
      value: this.clusterIdentity.roleArn,
      description: 'Map this role in every EKS target cluster (access entry, group kubelease-broker)',
    });
    new CfnOutput(this, 'KmsKeyArn', { value: this.key.keyArn });
    new CfnOutput(this, 'ExpireDlqUrl', { value: this.deadLetterQueue.queueUrl });
    if (this.securityGroups) {
      new CfnOutput(this, 'BrokerSecurityGroupIds', {
        value: this.securityGroups.map((sg) => sg.securityGroupId).join(','),
        description: 'Allow these on the cluster API port (443, or 6443 for self-managed API servers) in each private cluster security group',
      });
    }
    if (this.dashboard) new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
  }
}
