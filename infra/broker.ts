/**
 * KubeleaseBroker: the whole deployed broker as one construct (usable from any CDK app).
 *
 *   REST API (AWS_IAM on every method, built from lib/http/routes.ts)
 *     → config / roles / creds / leases functions
 *   DynamoDB config · roles · leases (from lib/adapters/dynamodb/tables.ts)
 *     leases stream (TTL REMOVE only) → expire function (DLQ on failure)
 *   EventBridge schedule → sweep function
 *   KMS key for the service_account_jwt envelope; alarms; outputs.
 *
 * IAM: every function talks to target clusters (config: force delete revokes leases; roles:
 * check; creds; leases: revoke; expire; sweep), so every function holds the broker's
 * Kubernetes identity. See `executionRoles` for how that identity is laid out in IAM.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { TABLE_ENV, tables, type KeyAttr, type TableDef, type TableKey } from '../lib/adapters/dynamodb/tables.js';
import { routes, type FunctionName } from '../lib/http/routes.js';

/** Every Lambda entry under functions/. The HTTP ones are the route table's `fn` values. */
export type BrokerFunction = FunctionName | 'expire' | 'sweep';
export const BROKER_FUNCTIONS: readonly BrokerFunction[] = ['config', 'roles', 'creds', 'leases', 'expire', 'sweep'];

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

/** Resolved from this file so other CDK apps that import the construct bundle the right code. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** ESM bundles: esbuild's require() shim needs a real `require` for CommonJS dependencies. */
const ESM_REQUIRE_BANNER = "import { createRequire as __kl_createRequire } from 'node:module'; const require = __kl_createRequire(import.meta.url);";

type DynamoAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'Scan';
interface FunctionAccess {
  config?: DynamoAction[];
  roles?: DynamoAction[];
  /** Query on the leases table means its GSIs (the lease store always queries an index). */
  leases?: DynamoAction[];
  kms: ('kms:Decrypt' | 'kms:GenerateDataKey')[];
}

/**
 * Least privilege per function, derived from what lib/engine + lib/adapters actually call.
 * No function gets table-level admin actions, BatchWriteItem or Scan beyond config.
 */
export const FUNCTION_ACCESS: Record<BrokerFunction, FunctionAccess> = {
  // write config reads the old item (decrypts the JWT) and seals the new one; force delete revokes leases
  config: {
    config: ['GetItem', 'PutItem', 'DeleteItem', 'Scan'],
    leases: ['Query', 'UpdateItem', 'DeleteItem'],
    kms: ['kms:Decrypt', 'kms:GenerateDataKey'],
  },
  roles: { config: ['GetItem'], roles: ['GetItem', 'PutItem', 'DeleteItem', 'Query'], kms: ['kms:Decrypt'] },
  creds: { config: ['GetItem'], roles: ['GetItem'], leases: ['PutItem', 'UpdateItem', 'DeleteItem'], kms: ['kms:Decrypt'] },
  leases: { config: ['GetItem'], leases: ['GetItem', 'Query', 'UpdateItem', 'DeleteItem'], kms: ['kms:Decrypt'] },
  // the item is already gone (TTL): the stream's OLD_IMAGE carries the plan
  expire: { config: ['GetItem'], kms: ['kms:Decrypt'] },
  sweep: { config: ['GetItem', 'Scan'], leases: ['Query', 'UpdateItem', 'DeleteItem'], kms: ['kms:Decrypt'] },
};

const TIMEOUTS: Record<BrokerFunction, Duration> = {
  // API Gateway's integration timeout is 29 s: stop just before it so the log shows the timeout
  config: Duration.seconds(28),
  roles: Duration.seconds(28),
  creds: Duration.seconds(28),
  leases: Duration.seconds(28),
  expire: Duration.minutes(2),
  sweep: Duration.minutes(5),
};

const attr = (a: KeyAttr): dynamodb.Attribute => ({
  name: a.name,
  type: a.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

export class KubeleaseBroker extends Construct {
  readonly api: apigw.RestApi;
  readonly tables: Record<TableKey, dynamodb.TableV2>;
  readonly key: kms.Key;
  readonly functions: Record<BrokerFunction, nodejs.NodejsFunction>;
  /** The one IAM role target clusters must map (EKS access entry / aws-auth). */
  readonly clusterIdentity: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: KubeleaseBrokerProps) {
    super(scope, id);
    if (props.adminPrincipals.length === 0) throw new Error('KubeleaseBroker: adminPrincipals must not be empty');
    for (const p of props.adminPrincipals) {
      if (p.includes(',')) throw new Error(`KubeleaseBroker: admin principal "${p}" contains a comma`);
    }
    const retain = (props.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    // ---- data -------------------------------------------------------------------------------
    this.key = new kms.Key(this, 'SecretsKey', {
      description: 'kubelease: envelope encryption of service_account_jwt in the config table',
      enableKeyRotation: true,
      removalPolicy,
      ...(retain ? {} : { pendingWindow: Duration.days(7) }),
    });

    const makeTable = (def: TableDef) =>
      new dynamodb.TableV2(this, `${def.id}Table`, {
        partitionKey: attr(def.partitionKey),
        ...(def.sortKey ? { sortKey: attr(def.sortKey) } : {}),
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // the one secret (the JWT) is already sealed with the CMK above; the rest is metadata
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        deletionProtection: retain,
        removalPolicy,
        ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
        ...(def.stream ? { dynamoStream: dynamodb.StreamViewType[def.stream] } : {}),
        globalSecondaryIndexes: (def.globalSecondaryIndexes ?? []).map((g) => ({
          indexName: g.name,
          partitionKey: attr(g.partitionKey),
          ...(g.sortKey ? { sortKey: attr(g.sortKey) } : {}),
          projectionType: dynamodb.ProjectionType.ALL,
        })),
      });
    this.tables = { config: makeTable(tables.config), roles: makeTable(tables.roles), leases: makeTable(tables.leases) };

    this.deadLetterQueue = new sqs.Queue(this, 'ExpireDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the on-failure destination of the expire stream mapping; a DLQ for it would only hold copies of failure metadata.',
    );

    // ---- IAM --------------------------------------------------------------------------------
    const lambdaPrincipal = new iam.ServicePrincipal('lambda.amazonaws.com');
    const roles = {} as Record<BrokerFunction, iam.Role>;
    if ((props.executionRoles ?? 'shared') === 'shared') {
      const shared = new iam.Role(this, 'BrokerRole', {
        assumedBy: lambdaPrincipal,
        description: 'kubelease broker: execution role of all functions and the identity target clusters see',
      });
      for (const fn of BROKER_FUNCTIONS) roles[fn] = shared;
      this.clusterIdentity = shared;
    } else {
      for (const fn of BROKER_FUNCTIONS) {
        roles[fn] = new iam.Role(this, `${cap(fn)}Role`, { assumedBy: lambdaPrincipal, description: `kubelease ${fn} function` });
      }
      const uniqueRoles = BROKER_FUNCTIONS.map((fn) => roles[fn]);
      this.clusterIdentity = new iam.Role(this, 'ClusterAccessRole', {
        assumedBy: new iam.CompositePrincipal(...uniqueRoles.map((r) => new iam.ArnPrincipal(r.roleArn))),
        description: 'kubelease broker identity in target clusters: set as role_arn of EKS configs; holds no AWS permissions',
      });
      for (const r of uniqueRoles) this.clusterIdentity.grantAssumeRole(r);
    }
    for (const fn of BROKER_FUNCTIONS) this.grantAccess(roles[fn], FUNCTION_ACCESS[fn]);
    if (props.assumableRoleArns && props.assumableRoleArns.length > 0) {
      const statement = new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: props.assumableRoleArns });
      for (const r of new Set(Object.values(roles))) {
        r.addToPrincipalPolicy(statement);
        if (props.assumableRoleArns.some((a) => a.includes('*'))) {
          for (const pattern of props.assumableRoleArns.filter((a) => a.includes('*'))) {
            acknowledge(
              r,
              `AwsSolutions-IAM5[Resource::${pattern}]`,
              'assumableRoleArns patterns come from the deployer (role_arn targets of EKS configs); each target role must still trust the broker role.',
            );
          }
        }
      }
    }

    // ---- functions --------------------------------------------------------------------------
    const functionsDir = props.functionsDir ?? join(PACKAGE_ROOT, 'functions');
    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'kubelease',
      POWERTOOLS_METRICS_NAMESPACE: 'Kubelease',
      KUBELEASE_ADMIN_PRINCIPALS: props.adminPrincipals.join(','),
      KUBELEASE_KMS_KEY_ID: this.key.keyArn,
      // every function builds all three stores (lib/lambda/runtime.ts), so all get all names
      [TABLE_ENV.config]: this.tables.config.tableName,
      [TABLE_ENV.roles]: this.tables.roles.tableName,
      [TABLE_ENV.leases]: this.tables.leases.tableName,
      ...(props.pendingGraceSeconds !== undefined ? { KUBELEASE_PENDING_GRACE_SECONDS: String(props.pendingGraceSeconds) } : {}),
      ...(props.orphanGraceSeconds !== undefined ? { KUBELEASE_ORPHAN_GRACE_SECONDS: String(props.orphanGraceSeconds) } : {}),
    };
    const functions = {} as Record<BrokerFunction, nodejs.NodejsFunction>;
    for (const fn of BROKER_FUNCTIONS) {
      const logGroup = new logs.LogGroup(this, `${cap(fn)}Logs`, { retention: logRetention, removalPolicy });
      logGroup.grantWrite(roles[fn]);
      functions[fn] = new nodejs.NodejsFunction(this, `${cap(fn)}Function`, {
        description: `kubelease ${fn}`,
        entry: join(functionsDir, `${fn}.ts`),
        handler: 'handler',
        projectRoot: PACKAGE_ROOT,
        depsLockFilePath: join(PACKAGE_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 512,
        timeout: TIMEOUTS[fn],
        role: roles[fn],
        logGroup,
        environment,
        ...(props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
        bundling: {
          format: nodejs.OutputFormat.ESM,
          target: 'node24',
          platform: 'node',
          mainFields: ['module', 'main'],
          banner: ESM_REQUIRE_BANNER,
          minify: true,
          sourceMap: true,
          sourcesContent: false,
          // Bundle the AWS SDK too: pinned to package-lock.json, and the runtime's copy is not
          // resolvable from ES modules anyway.
          externalModules: [],
        },
      });
    }
    this.functions = functions;

    // ---- stream → expire ------------------------------------------------------------------
    functions.expire.addEventSource(
      new DynamoEventSource(this.tables.leases, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        bisectBatchOnError: true,
        retryAttempts: 5,
        // the sweeper catches anything older; a stuck record must not block the shard for a day
        maxRecordAge: Duration.hours(1),
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.deadLetterQueue),
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

    // ---- schedule → sweep -----------------------------------------------------------------
    new events.Rule(this, 'SweepSchedule', {
      description: 'kubelease: sweep expired leases and orphaned objects',
      schedule: events.Schedule.rate(props.sweepSchedule ?? Duration.minutes(5)),
      // the next run comes soon enough: no async retries piling up behind a slow sweep
      targets: [new targets.LambdaFunction(functions.sweep, { retryAttempts: 0, maxEventAge: Duration.minutes(5) })],
    });

    // ---- API --------------------------------------------------------------------------------
    this.api = this.buildApi(props, functions, logRetention, removalPolicy);

    if (props.tracing) {
      for (const r of new Set(Object.values(roles))) {
        acknowledge(
          r,
          'AwsSolutions-IAM5[Resource::*]',
          'xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions (added by Tracing.ACTIVE).',
        );
      }
    }

    // ---- alarms -----------------------------------------------------------------------------
    const alarm = (id: string, props2: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }) => {
      const a = new cloudwatch.Alarm(this, id, props2);
      if (props.alarmTopic) {
        a.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
        a.addOkAction(new cwActions.SnsAction(props.alarmTopic));
      }
      this.alarms.push(a);
      return a;
    };
    alarm('ExpireDlqAlarm', {
      alarmDescription: 'kubelease: stream records the expire function gave up on (the sweeper will clean up; investigate)',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const fn of BROKER_FUNCTIONS) {
      alarm(`${cap(fn)}ErrorsAlarm`, {
        alarmDescription: `kubelease ${fn}: unhandled errors (handled 4xx/5xx responses do not count)`,
        metric: functions[fn].metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // ---- outputs ----------------------------------------------------------------------------
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

  private grantAccess(role: iam.Role, access: FunctionAccess): void {
    for (const key of ['config', 'roles', 'leases'] as const) {
      const actions = access[key];
      if (!actions || actions.length === 0) continue;
      const table = this.tables[key];
      const itemActions = actions.filter((a) => !(key === 'leases' && a === 'Query'));
      if (itemActions.length > 0) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: itemActions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }),
        );
      }
      if (key === 'leases' && actions.includes('Query')) {
        const indexArns = (tables.leases.globalSecondaryIndexes ?? []).map((g) => `${table.tableArn}/index/${g.name}`);
        role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }));
      }
    }
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: access.kms, resources: [this.key.keyArn] }));
  }

  private buildApi(
    props: KubeleaseBrokerProps,
    functions: Record<BrokerFunction, nodejs.NodejsFunction>,
    logRetention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): apigw.RestApi {
    const accounts = props.allowedAccounts && props.allowedAccounts.length > 0 ? props.allowedAccounts : [Stack.of(this).account];
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AllowedAccounts',
          effect: iam.Effect.ALLOW,
          principals: accounts.map((a) => new iam.AccountPrincipal(a)),
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
        }),
        new iam.PolicyStatement({
          sid: 'DenyOtherAccounts',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
          conditions: { StringNotEquals: { 'aws:PrincipalAccount': accounts } },
        }),
      ],
    });

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy });
    const f = apigw.AccessLogField;
    // JSON, one line per request: who, what, outcome. No headers, no bodies, no query strings.
    const quoted: Record<string, string> = {
      requestId: f.contextRequestId(),
      extendedRequestId: f.contextExtendedRequestId(),
      requestTime: f.contextRequestTime(),
      httpMethod: f.contextHttpMethod(),
      resourcePath: f.contextResourcePath(),
      path: f.contextPath(),
      status: f.contextStatus(),
      responseLength: f.contextResponseLength(),
      responseLatency: f.contextResponseLatency(),
      integrationLatency: f.contextIntegrationLatency(),
      integrationStatus: f.contextIntegrationStatus(),
      sourceIp: f.contextIdentitySourceIp(),
      userAgent: f.contextIdentityUserAgent(),
      accountId: f.contextIdentityAccountId(),
      caller: f.contextIdentityCaller(),
      user: f.contextIdentityUser(),
      userArn: f.contextIdentityUserArn(),
      errorType: f.contextErrorResponseType(),
    };
    const format = `{${Object.entries(quoted)
      .map(([k, v]) => `"${k}":"${v}"`)
      // messageString is already a JSON string literal (quotes escaped)
      .concat(`"error":${f.contextErrorMessageString()}`)
      .join(',')}}`;

    const api = new apigw.RestApi(this, 'Api', {
      description: 'kubelease: Vault Kubernetes secrets engine API, AWS IAM (SigV4) auth',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      policy,
      cloudWatchRole: props.cloudWatchRole ?? true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: props.stageName ?? 'api',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(format),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: props.tracing ?? false,
        throttlingRateLimit: props.throttle?.rateLimit ?? 50,
        throttlingBurstLimit: props.throttle?.burstLimit ?? 100,
      },
    });
    // Resource policy and gateway responses only take effect with a new deployment.
    api.latestDeployment?.addToLogicalId({ accounts, format, responses: 'vault-errors-v1' });

    // Vault clients parse {"errors": [...]}: give API Gateway's own 4xx/5xx (SigV4 failures,
    // throttling, unknown paths) the same envelope.
    for (const [id, type] of [
      ['Default4xx', apigw.ResponseType.DEFAULT_4XX],
      ['Default5xx', apigw.ResponseType.DEFAULT_5XX],
    ] as const) {
      api.addGatewayResponse(id, {
        type,
        templates: { 'application/json': '{"errors":[$context.error.messageString]}' },
      });
    }

    // One integration per function; its invoke permission is scoped to this API.
    const integrations = new Map<FunctionName, apigw.LambdaIntegration>();
    const integrationFor = (fn: FunctionName) => {
      let i = integrations.get(fn);
      if (!i) {
        i = new apigw.LambdaIntegration(functions[fn], { proxy: true, scopePermissionToMethod: false });
        integrations.set(fn, i);
      }
      return i;
    };
    for (const route of routes) {
      const resource = api.root.resourceForPath(route.path);
      for (const method of route.methods) {
        resource.addMethod(method, integrationFor(route.fn), { authorizationType: apigw.AuthorizationType.IAM });
      }
    }

    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: api.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    } else {
      acknowledge(
        api.deploymentStage,
        'AwsSolutions-APIG3',
        'Every method requires SigV4 (AWS_IAM) and the resource policy admits only allowedAccounts; the stage is throttled. Pass webAclArn to attach a WAF.',
      );
    }
    acknowledge(
      api,
      'AwsSolutions-APIG2',
      'Handlers validate every body with the shared zod schemas and answer in the Vault error envelope naming the field; an API Gateway validator would answer in a different shape.',
    );
    acknowledge(
      api,
      'AwsSolutions-COG4',
      'Callers are IAM principals (CI roles, admins) authenticated with SigV4 (AWS_IAM on every method); there are no Cognito users.',
    );
    if (props.cloudWatchRole ?? true) {
      acknowledge(
        api,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The account-level API Gateway logging role uses the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy, made for exactly this role.',
      );
    }
    return api;
  }
}

/** cdk-nag v3 acknowledgment (CDK policy validation); walks up the tree, so a role covers its policies. */
function acknowledge(scope: Construct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
