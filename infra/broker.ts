/**
 * KubeleaseBroker: the whole deployed broker as one construct (usable from any CDK app).
 *
 *   REST API (AWS_IAM on every method, built from lib/http/routes.ts)       broker-api.ts
 *     → config / roles / creds / leases functions                           broker-functions.ts
 *   DynamoDB config · roles · leases (from lib/adapters/dynamodb/tables.ts)  broker-tables.ts
 *     leases stream (TTL REMOVE only) → expire function (DLQ on failure)    broker-expiry.ts
 *   EventBridge schedule → sweep function                                   broker-expiry.ts
 *   KMS key for the service_account_jwt envelope; alarms; outputs.          broker-tables.ts, broker-alarms.ts
 *
 * IAM: every function talks to target clusters (config: force delete revokes leases; roles:
 * check; creds; leases: revoke; expire; sweep), so every function holds the broker's
 * Kubernetes identity. See `executionRoles` for how that identity is laid out in IAM
 * (broker-iam.ts). cdk-nag acknowledgments sit next to what they cover (nag.ts).
 */
import { CfnOutput, type Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TableKey } from '../lib/adapters/dynamodb/tables.js';
import { checkAdminPrincipals } from '../lib/domain/principals.js';
import { isKubeleaseError } from '../lib/domain/errors.js';
import { createAlarms } from './broker-alarms.js';
import { createApi } from './broker-api.js';
import { createExpireDeadLetterQueue, expireOnLeaseTtl, scheduleSweep } from './broker-expiry.js';
import { createFunctions, type BrokerFunction } from './broker-functions.js';
import { acknowledgeTracing, createExecutionRoles } from './broker-iam.js';
import { createSecretsKey, createTables } from './broker-tables.js';

export { BROKER_FUNCTIONS, type BrokerFunction } from './broker-functions.js';
export { FUNCTION_ACCESS } from './broker-iam.js';

export interface KubeleaseBrokerProps {
  /** IAM principal ARNs or patterns (`arn:aws:iam::123456789012:role/platform-*`) that administer the broker. */
  adminPrincipals: string[];
  /** Accounts whose principals may call the API (resource policy); others are denied. Default: this stack's account. */
  allowedAccounts?: string[];
  /** How often the sweeper runs. Default 5 minutes. */
  sweepSchedule?: Duration;
  /** Retention of the function and access log groups. Default ONE_MONTH. */
  logRetention?: logs.RetentionDays;
  /** Tables, KMS key and log groups. Default RETAIN (tables also get deletion protection). */
  removalPolicy?: RemovalPolicy;
  /** Seconds a pending lease (issuance in flight) lives before TTL/sweeper reclaim it. Default: the engine's. */
  pendingGraceSeconds?: number;
  /** Seconds a labeled object without a live lease is left alone by the sweeper. Default: the engine's. */
  orphanGraceSeconds?: number;
  /** Stage throttling. Defaults: 50 requests/s, burst 100. */
  throttle?: { rateLimit?: number; burstLimit?: number };
  /** X-Ray on the stage and the functions. Default false. */
  tracing?: boolean;
  /** Alarm (and OK) notifications go here when set. */
  alarmTopic?: sns.ITopic;
  /** API Gateway stage name, the first path segment of every URL. Default "api". */
  stageName?: string;
  /** Creates the account-level API Gateway → CloudWatch Logs role that access/execution logging needs. Default true. */
  cloudWatchRole?: boolean;
  /** Associate this WAFv2 web ACL (REGIONAL scope) with the stage. */
  webAclArn?: string;
  /**
   * Role ARNs (patterns allowed) that EKS configs may name as `role_arn` beyond the broker's own,
   * e.g. a role in another account that the target cluster maps. Default: none.
   */
  assumableRoleArns?: string[];
  /**
   * `shared` (default): one execution role for all six functions. It is the only IAM identity
   * the target clusters see, so admins map exactly one role in EKS and EKS configs need no
   * `role_arn`. Its permissions are the union of the functions' needs below.
   *
   * `per-function`: each function gets its own least-privilege role, plus a permission-less
   * `ClusterAccessRole` that all of them may assume. Admins map that one role in EKS and set
   * it as `role_arn` in every EKS config (the broker then assumes it before signing the EKS token).
   */
  executionRoles?: 'shared' | 'per-function';
  /** Where the Lambda entries live. Default: `<this package>/functions`. */
  functionsDir?: string;
}

/** The check the Lambdas run at cold start, at synth: unresolved tokens (the placeholder) are left to it. */
function checkAdminPrincipalsAtSynth(principals: readonly string[]): void {
  try {
    checkAdminPrincipals(principals.filter((p) => !Token.isUnresolved(p)));
  } catch (e) {
    if (!isKubeleaseError(e)) throw e;
    throw new Error(`KubeleaseBroker: adminPrincipals: ${e.errors.join('; ')}`);
  }
}

export class KubeleaseBroker extends Construct {
  readonly api: apigw.RestApi;
  readonly tables: Record<TableKey, dynamodb.TableV2>;
  readonly key: kms.Key;
  readonly functions: Record<BrokerFunction, nodejs.NodejsFunction>;
  /** The one IAM role target clusters must map (EKS access entry / aws-auth). */
  readonly clusterIdentity: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: KubeleaseBrokerProps) {
    super(scope, id);
    if (props.adminPrincipals.length === 0) throw new Error('KubeleaseBroker: adminPrincipals must not be empty');
    for (const p of props.adminPrincipals) {
      if (p.includes(',')) throw new Error(`KubeleaseBroker: admin principal "${p}" contains a comma`);
    }
    checkAdminPrincipalsAtSynth(props.adminPrincipals);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retention = { retain: removalPolicy === RemovalPolicy.RETAIN, removalPolicy };
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    // Creation order is template order: keep it when moving things around.
    this.key = createSecretsKey(this, retention);
    this.tables = createTables(this, retention);
    this.deadLetterQueue = createExpireDeadLetterQueue(this);

    const { roles, clusterIdentity } = createExecutionRoles(this, { props, tables: this.tables, key: this.key });
    this.clusterIdentity = clusterIdentity;
    this.functions = createFunctions(this, { props, roles, key: this.key, tables: this.tables, logRetention, removalPolicy });

    expireOnLeaseTtl(this.functions.expire, this.tables.leases, this.deadLetterQueue);
    scheduleSweep(this, this.functions.sweep, props.sweepSchedule);

    this.api = createApi(this, { props, functions: this.functions, logRetention, removalPolicy });
    if (props.tracing) acknowledgeTracing(roles);

    this.alarms = createAlarms(this, { functions: this.functions, deadLetterQueue: this.deadLetterQueue, alarmTopic: props.alarmTopic });
    this.addOutputs();
  }

  private addOutputs(): void {
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'VAULT_ADDR-style base URL (paths start with v1/)' });
    new CfnOutput(this, 'ConfigTableName', { value: this.tables.config.tableName });
    new CfnOutput(this, 'RolesTableName', { value: this.tables.roles.tableName });
    new CfnOutput(this, 'LeasesTableName', { value: this.tables.leases.tableName });
    new CfnOutput(this, 'BrokerRoleArn', {
      value: this.clusterIdentity.roleArn,
      description: 'Map this role in every EKS target cluster (access entry, group kubelease-broker)',
    });
    new CfnOutput(this, 'KmsKeyArn', { value: this.key.keyArn });
    new CfnOutput(this, 'ExpireDlqUrl', { value: this.deadLetterQueue.queueUrl });
  }
}
