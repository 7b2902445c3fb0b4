/**
 * The deployed shape of the broker, asserted on synthesized templates with literal expected
 * values (never the constants the infra code itself uses), so that changing a table, a grant
 * or a default in infra/ or lib/tables.ts makes a test here fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { routes } from '../../lib/http/routes.js';
import { BROKER_FUNCTIONS, FUNCTION_ACCESS, KubeleaseBroker, type BrokerFunction } from '../../infra/broker.js';
import {
  actionsOn,
  ADMIN,
  arr,
  buildConstruct,
  buildStack,
  fnId,
  fnProps,
  grantsOf,
  indexArn,
  logicalIdOf,
  ofType,
  only,
  outputOf,
  ROOT,
  roleOfFn,
  tableArn,
  tableId,
  type Built,
  type Json,
} from './support.js';

const HTTP_FUNCTIONS = ['config', 'roles', 'creds', 'leases'] as const;
const MOUNT_CONTEXT = {
  'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['mount'] },
  Null: { 'kms:EncryptionContext:mount': 'false' },
};

let shared: Built;
let perFunction: Built;
let options: Built;

beforeAll(() => {
  shared = buildStack();
  perFunction = buildStack({ executionRoles: 'per-function' });
  options = buildConstruct((stack) => ({
    allowedAccounts: ['222222222222', '333333333333'],
    sweepSchedule: Duration.minutes(10),
    logRetention: 7,
    removalPolicy: RemovalPolicy.DESTROY,
    pendingGraceSeconds: 120,
    orphanGraceSeconds: 900,
    readCacheSeconds: 0,
    sourceMaps: true,
    throttle: { rateLimit: 5, burstLimit: 10 },
    tracing: true,
    webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/kubelease/abc',
    assumableRoleArns: ['arn:aws:iam::444444444444:role/kubelease-*'],
    stageName: 'prod',
    memorySize: { creds: 2048, expire: 256 },
    reservedConcurrency: { creds: 20, expire: 2 },
    metricsNamespace: 'Platform/Kubelease',
    alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true }),
  }));
}, 180_000);

describe('REST API', () => {
  test('every method requires AWS_IAM (SigV4)', () => {
    const methods = ofType(shared, 'AWS::ApiGateway::Method');
    expect(methods.length).toBe(routes.reduce((n, r) => n + r.methods.length, 0));
    for (const [id, m] of methods) expect([id, m.Properties.AuthorizationType]).toEqual([id, 'AWS_IAM']);
  });

  test('each route of lib/http/routes.ts exists with a Lambda proxy integration to its function', () => {
    const resources = Object.fromEntries(ofType(shared, 'AWS::ApiGateway::Resource'));
    const pathOf = (id: string): string => {
      const r = resources[id];
      const parent = r.Properties.ParentId;
      const prefix = parent.Ref ? pathOf(parent.Ref) : '';
      return `${prefix}/${r.Properties.PathPart}`;
    };
    const methods = ofType(shared, 'AWS::ApiGateway::Method').map(([, m]) => ({
      path: m.Properties.ResourceId.Ref ? pathOf(m.Properties.ResourceId.Ref) : '/',
      method: m.Properties.HttpMethod,
      integration: m.Properties.Integration,
    }));
    for (const route of routes) {
      for (const method of route.methods) {
        const m = methods.find((x) => x.path === route.path && x.method === method);
        expect(m).toBeDefined();
        expect(m?.integration.Type).toBe('AWS_PROXY');
        expect(m?.integration.IntegrationHttpMethod).toBe('POST');
        expect(m?.integration.Uri).toEqual({
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, ':lambda:path/2015-03-31/functions/', { 'Fn::GetAtt': [fnId(shared, route.fn), 'Arn'] }, '/invocations']],
        });
      }
    }
  });

  test('resource policy: allow the stack account, deny every other account', () => {
    const api = only(ofType(shared, 'AWS::ApiGateway::RestApi'))[1];
    const statements = api.Properties.Policy.Statement as Json[];
    const allow = statements.find((s) => s.Effect === 'Allow');
    const deny = statements.find((s) => s.Effect === 'Deny');
    expect(allow.Action).toBe('execute-api:Invoke');
    expect(JSON.stringify(allow.Principal)).toContain('111111111111');
    expect(deny.Principal).toEqual({ AWS: '*' });
    expect(deny.Condition).toEqual({ StringNotEquals: { 'aws:PrincipalAccount': ['111111111111'] } });
    expect(api.Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
    expect(api.Properties.DisableExecuteApiEndpoint).toBe(false);

    const other = only(ofType(options, 'AWS::ApiGateway::RestApi'))[1].Properties.Policy.Statement as Json[];
    expect(other.find((s) => s.Effect === 'Deny').Condition).toEqual({
      StringNotEquals: { 'aws:PrincipalAccount': ['222222222222', '333333333333'] },
    });
  });

  test('stage: JSON access log with caller identity and no headers or bodies, throttling, error-level execution logs', () => {
    const stage = only(ofType(shared, 'AWS::ApiGateway::Stage'))[1].Properties;
    const format = stage.AccessLogSetting.Format as string;
    const sample = JSON.parse(format.replace('$context.error.messageString', '"x"')) as Record<string, string>;
    expect(sample).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      caller: '$context.identity.caller',
      userArn: '$context.identity.userArn',
      accountId: '$context.identity.accountId',
    });
    expect(format).not.toMatch(/\$input|header|requestOverride|querystring/i);
    const accessLogs = logicalIdOf(shared, 'ApiAccessLogs', 'AWS::Logs::LogGroup');
    expect(JSON.stringify(stage.AccessLogSetting.DestinationArn)).toContain(`"${accessLogs}"`);
    expect(shared.resources[accessLogs].Properties.RetentionInDays).toBe(30);
    expect(stage.StageName).toBe('api');
    expect(stage.TracingEnabled).toBe(false);
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
      }),
    ]);
    const opt = only(ofType(options, 'AWS::ApiGateway::Stage'))[1].Properties;
    expect(opt).toMatchObject({ StageName: 'prod', TracingEnabled: true });
    expect(opt.MethodSettings[0]).toMatchObject({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 });
    expect(options.resources[logicalIdOf(options, 'ApiAccessLogs', 'AWS::Logs::LogGroup')].Properties.RetentionInDays).toBe(7);
  });

  test('WAF: associated with the stage only when webAclArn is given', () => {
    const assoc = only(ofType(options, 'AWS::WAFv2::WebACLAssociation'))[1].Properties;
    expect(assoc.WebACLArn).toBe('arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/kubelease/abc');
    expect(JSON.stringify(assoc.ResourceArn)).toContain('/stages/');
    expect(ofType(shared, 'AWS::WAFv2::WebACLAssociation')).toHaveLength(0);
  });

  test('API Gateway errors use the Vault envelope', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      shared.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseTemplates: { 'application/json': '{"errors":[$context.error.messageString]}' },
      });
    }
  });

  test('invoke permissions: one per HTTP function, for this API and this stage only (not /*/*/*)', () => {
    const perms = ofType(shared, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com');
    const targets = perms.map(([, p]) => p.Properties.FunctionName['Fn::GetAtt'][0]).sort();
    expect(targets).toEqual(HTTP_FUNCTIONS.map((f) => fnId(shared, f)).sort());
    const api = only(ofType(shared, 'AWS::ApiGateway::RestApi'))[0];
    for (const [, p] of perms) {
      expect(p.Properties.SourceArn).toEqual({ 'Fn::Join': ['', ['arn:aws:execute-api:eu-west-1:111111111111:', { Ref: api }, '/api/*/*']] });
      expect(p.Properties.SourceAccount).toBe('111111111111');
    }
    const optPerms = ofType(options, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(optPerms).toHaveLength(4);
    for (const [, p] of optPerms) expect(p.Properties.SourceArn['Fn::Join'][1][2]).toBe('/prod/*/*');
  });
});

describe('DynamoDB', () => {
  const table = (b: Built, id: 'Config' | 'Roles' | 'Leases') => b.resources[tableId(b, id)];

  test('config: key mount, no TTL, no stream, no index', () => {
    const p = table(shared, 'Config').Properties;
    expect(p.KeySchema).toEqual([{ AttributeName: 'mount', KeyType: 'HASH' }]);
    expect(p.AttributeDefinitions).toEqual([{ AttributeName: 'mount', AttributeType: 'S' }]);
    expect(p.TimeToLiveSpecification).toBeUndefined();
    expect(p.StreamSpecification).toBeUndefined();
    expect(p.GlobalSecondaryIndexes).toBeUndefined();
  });

  test('roles: key mount + name', () => {
    const p = table(shared, 'Roles').Properties;
    expect(p.KeySchema).toEqual([
      { AttributeName: 'mount', KeyType: 'HASH' },
      { AttributeName: 'name', KeyType: 'RANGE' },
    ]);
    expect(p.TimeToLiveSpecification).toBeUndefined();
    expect(p.StreamSpecification).toBeUndefined();
  });

  test('leases: key lease_id, TTL on expires_at, OLD_IMAGE stream, the two indexes', () => {
    const p = table(shared, 'Leases').Properties;
    expect(p.KeySchema).toEqual([{ AttributeName: 'lease_id', KeyType: 'HASH' }]);
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'expires_at', Enabled: true });
    expect(p.StreamSpecification).toEqual({ StreamViewType: 'OLD_IMAGE' });
    expect(p.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'by_mount_expiry',
        KeySchema: [
          { AttributeName: 'mount', KeyType: 'HASH' },
          { AttributeName: 'expires_at', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: 'by_mount_role',
        KeySchema: [
          { AttributeName: 'mount', KeyType: 'HASH' },
          { AttributeName: 'role_lease', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  test.each(['Config', 'Roles', 'Leases'] as const)('%s: on-demand, PITR, encrypted, retained with deletion protection', (id) => {
    const t = table(shared, id);
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(t.Properties.Replicas[0].PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(t.Properties.Replicas[0].DeletionProtectionEnabled).toBe(true);
    expect(t.Properties.SSESpecification.SSEEnabled).toBe(true);
  });

  test('removalPolicy DESTROY turns off deletion protection', () => {
    for (const id of ['Config', 'Roles', 'Leases'] as const) {
      const t = table(options, id);
      expect(t.DeletionPolicy).toBe('Delete');
      expect(t.Properties.Replicas[0].DeletionProtectionEnabled).toBe(false);
    }
  });
});

describe('KMS', () => {
  const KEY_ADMIN = [
    'kms:CancelKeyDeletion',
    'kms:CreateAlias',
    'kms:DeleteAlias',
    'kms:DescribeKey',
    'kms:DisableKey',
    'kms:DisableKeyRotation',
    'kms:EnableKey',
    'kms:EnableKeyRotation',
    'kms:GetKeyPolicy',
    'kms:GetKeyRotationStatus',
    'kms:ListGrants',
    'kms:ListKeyPolicies',
    'kms:ListResourceTags',
    'kms:PutKeyPolicy',
    'kms:RevokeGrant',
    'kms:RotateKeyOnDemand',
    'kms:ScheduleKeyDeletion',
    'kms:TagResource',
    'kms:UntagResource',
    'kms:UpdateAlias',
    'kms:UpdateKeyDescription',
  ];

  test('key rotates and is retained; functions get its ARN', () => {
    const [id, key] = only(ofType(shared, 'AWS::KMS::Key'));
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    for (const fn of BROKER_FUNCTIONS) expect(fnProps(shared, fn).Environment.Variables.KUBELEASE_KMS_KEY_ID).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
  });

  test('key policy (shared role): the account administers, only the broker role uses, under the mount context', () => {
    const policy = only(ofType(shared, 'AWS::KMS::Key'))[1].Properties.KeyPolicy;
    expect(policy.Statement).toEqual([
      { Sid: 'KeyAdministration', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: KEY_ADMIN, Resource: '*' },
      {
        Sid: 'BrokerFunctionsUse',
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::GetAtt': [roleOfFn(shared, 'creds'), 'Arn'] } },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: MOUNT_CONTEXT,
      },
    ]);
    // no account-wide use, and no grant-making (a grant would bypass the statements above)
    expect(JSON.stringify(policy)).not.toMatch(/"kms:\*"|"kms:Encrypt"|"kms:ReEncrypt|"kms:CreateGrant"|"kms:Create\*"/);
  });

  test('key policy (per-function roles): only the config function may GenerateDataKey', () => {
    const statements = only(ofType(perFunction, 'AWS::KMS::Key'))[1].Properties.KeyPolicy.Statement as Json[];
    const use = Object.fromEntries(statements.filter((s) => s.Sid !== 'KeyAdministration').map((s) => [s.Sid, { principal: s.Principal.AWS['Fn::GetAtt'][0], actions: s.Action, condition: s.Condition }]));
    expect(Object.keys(use).sort()).toEqual(['ConfigFunctionUse', 'CredsFunctionUse', 'ExpireFunctionUse', 'LeasesFunctionUse', 'RolesFunctionUse', 'SweepFunctionUse']);
    expect(use.ConfigFunctionUse).toEqual({ principal: roleOfFn(perFunction, 'config'), actions: ['kms:Decrypt', 'kms:GenerateDataKey'], condition: MOUNT_CONTEXT });
    for (const fn of ['roles', 'creds', 'leases', 'expire', 'sweep'] as const) {
      expect(use[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}FunctionUse`]).toEqual({ principal: roleOfFn(perFunction, fn), actions: 'kms:Decrypt', condition: MOUNT_CONTEXT });
    }
  });

  test('identity policies: KMS actions only on the key, only under the mount context', () => {
    const keyArn = { 'Fn::GetAtt': [only(ofType(shared, 'AWS::KMS::Key'))[0], 'Arn'] };
    const kmsGrants = grantsOf(shared, roleOfFn(shared, 'creds')).filter((g) => g.actions.some((a) => a.startsWith('kms:')));
    expect(kmsGrants).toEqual([{ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [keyArn], conditions: MOUNT_CONTEXT }]);
  });
});

describe('functions', () => {
  test('runtime, architecture, handler, timeouts, memory', () => {
    expect(ofType(shared, 'AWS::Lambda::Function')).toHaveLength(6);
    for (const fn of BROKER_FUNCTIONS) {
      expect(fnProps(shared, fn)).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    }
    const fields = (b: Built, key: string) => Object.fromEntries(BROKER_FUNCTIONS.map((fn) => [fn, fnProps(b, fn)[key]]));
    expect(fields(shared, 'Timeout')).toEqual({ config: 28, roles: 28, creds: 28, leases: 28, expire: 120, sweep: 300 });
    expect(fields(shared, 'MemorySize')).toEqual({ config: 512, roles: 512, creds: 1024, leases: 512, expire: 512, sweep: 1024 });
    expect(fields(options, 'MemorySize')).toEqual({ config: 512, roles: 512, creds: 2048, leases: 512, expire: 256, sweep: 1024 });
  });

  test('reserved concurrency: the sweeper always 1, the others only when asked', () => {
    const reserved = (b: Built) => Object.fromEntries(BROKER_FUNCTIONS.map((fn) => [fn, fnProps(b, fn).ReservedConcurrentExecutions]));
    expect(reserved(shared)).toEqual({ config: undefined, roles: undefined, creds: undefined, leases: undefined, expire: undefined, sweep: 1 });
    expect(reserved(options)).toEqual({ config: undefined, roles: undefined, creds: 20, leases: undefined, expire: 2, sweep: 1 });
  });

  test('the sweeper is never retried by Lambda (async invoke config)', () => {
    const cfg = only(ofType(shared, 'AWS::Lambda::EventInvokeConfig'))[1].Properties;
    expect(cfg).toEqual({ FunctionName: { Ref: fnId(shared, 'sweep') }, Qualifier: '$LATEST', MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
    expect(only(ofType(options, 'AWS::Lambda::EventInvokeConfig'))[1].Properties).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 });
  });

  test('log groups', () => {
    for (const fn of BROKER_FUNCTIONS) {
      expect(shared.resources[fnProps(shared, fn).LoggingConfig.LogGroup.Ref].Properties.RetentionInDays).toBe(30);
      expect(options.resources[fnProps(options, fn).LoggingConfig.LogGroup.Ref].Properties.RetentionInDays).toBe(7);
    }
  });

  test('environment', () => {
    for (const fn of BROKER_FUNCTIONS) {
      const env = fnProps(shared, fn).Environment.Variables as Record<string, Json>;
      // source-mapped stack traces are opt-in (sourceMaps): they cost cold-start time (issue 13)
      expect(env).toEqual({
        POWERTOOLS_SERVICE_NAME: 'kubelease',
        POWERTOOLS_METRICS_NAMESPACE: 'Kubelease/Kubelease',
        POWERTOOLS_TRACE_ENABLED: 'false',
        KUBELEASE_ADMIN_PRINCIPALS: ADMIN,
        KUBELEASE_KMS_KEY_ID: { 'Fn::GetAtt': [only(ofType(shared, 'AWS::KMS::Key'))[0], 'Arn'] },
        KUBELEASE_CONFIG_TABLE: { Ref: tableId(shared, 'Config') },
        KUBELEASE_ROLES_TABLE: { Ref: tableId(shared, 'Roles') },
        KUBELEASE_LEASES_TABLE: { Ref: tableId(shared, 'Leases') },
      });
      expect(fnProps(shared, fn).TracingConfig).toBeUndefined();
      const opt = fnProps(options, fn).Environment.Variables as Record<string, Json>;
      expect(opt).toMatchObject({
        KUBELEASE_PENDING_GRACE_SECONDS: '120',
        KUBELEASE_ORPHAN_GRACE_SECONDS: '900',
        KUBELEASE_CACHE_SECONDS: '0',
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_TRACE_ENABLED: 'true',
        POWERTOOLS_METRICS_NAMESPACE: 'Platform/Kubelease',
      });
      expect(fnProps(options, fn).TracingConfig).toEqual({ Mode: 'Active' });
      expect(fnProps(shared, fn).VpcConfig).toBeUndefined();
    }
  });

  test('admin principals are joined with commas', () => {
    const b = buildStack({ adminPrincipals: [ADMIN, 'arn:aws:iam::111111111111:role/ci-*'] });
    expect(fnProps(b, 'config').Environment.Variables.KUBELEASE_ADMIN_PRINCIPALS).toBe(`${ADMIN},arn:aws:iam::111111111111:role/ci-*`);
  });
});

describe('expiry paths', () => {
  test('leases stream → expire: TTL removals only, bisect, retries, DLQ, partial batch failures', () => {
    const m = only(ofType(shared, 'AWS::Lambda::EventSourceMapping'))[1].Properties;
    expect(m.FunctionName).toEqual({ Ref: fnId(shared, 'expire') });
    expect(m.EventSourceArn).toEqual({ 'Fn::GetAtt': [tableId(shared, 'Leases'), 'StreamArn'] });
    expect(JSON.parse(m.FilterCriteria.Filters[0].Pattern)).toEqual({
      eventName: ['REMOVE'],
      userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
    });
    expect(m).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const dlqId = logicalIdOf(shared, 'ExpireDlq', 'AWS::SQS::Queue');
    expect(m.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });
  });

  test('DLQ is encrypted and refuses plain HTTP', () => {
    const dlqId = logicalIdOf(shared, 'ExpireDlq', 'AWS::SQS::Queue');
    expect(shared.resources[dlqId].Properties.SqsManagedSseEnabled).toBe(true);
    const policy = only(ofType(shared, 'AWS::SQS::QueuePolicy'))[1].Properties;
    expect(policy.Queues).toEqual([{ Ref: dlqId }]);
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  test('schedule → sweep', () => {
    const rule = only(ofType(shared, 'AWS::Events::Rule'))[1].Properties;
    expect(rule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [fnId(shared, 'sweep'), 'Arn'] });
    expect(rule.Targets[0].RetryPolicy).toMatchObject({ MaximumRetryAttempts: 0 });
    expect(only(ofType(options, 'AWS::Events::Rule'))[1].Properties.ScheduleExpression).toBe('rate(10 minutes)');
  });
});

describe('outputs', () => {
  test('API URL, table names, KMS key, DLQ, dashboard and the role to map in EKS', () => {
    expect(JSON.stringify(outputOf(shared, 'ApiUrl').Value)).toContain('execute-api');
    expect(outputOf(shared, 'ConfigTableName').Value).toEqual({ Ref: tableId(shared, 'Config') });
    expect(outputOf(shared, 'RolesTableName').Value).toEqual({ Ref: tableId(shared, 'Roles') });
    expect(outputOf(shared, 'LeasesTableName').Value).toEqual({ Ref: tableId(shared, 'Leases') });
    expect(outputOf(shared, 'BrokerRoleArn').Value).toEqual({ 'Fn::GetAtt': [roleOfFn(shared, 'creds'), 'Arn'] });
    expect(outputOf(shared, 'KmsKeyArn').Value).toEqual({ 'Fn::GetAtt': [only(ofType(shared, 'AWS::KMS::Key'))[0], 'Arn'] });
    expect(outputOf(shared, 'ExpireDlqUrl').Value).toEqual({ Ref: logicalIdOf(shared, 'ExpireDlq', 'AWS::SQS::Queue') });
    expect(outputOf(shared, 'DashboardName').Value).toEqual({ Ref: logicalIdOf(shared, 'Dashboard', 'AWS::CloudWatch::Dashboard') });
  });
});

describe('IAM: shared execution role (default)', () => {
  test('all six functions run as one role; it is the BrokerRoleArn output', () => {
    expect(new Set(BROKER_FUNCTIONS.map((fn) => roleOfFn(shared, fn))).size).toBe(1);
    shared.template.resourceCountIs('AWS::IAM::Role', 2); // + the API Gateway account logging role
  });

  test('item-level DynamoDB actions only, exactly these', () => {
    const role = roleOfFn(shared, 'creds');
    expect(actionsOn(shared, role, tableArn(shared, 'Config'))).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan']);
    expect(actionsOn(shared, role, tableArn(shared, 'Roles'))).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    expect(actionsOn(shared, role, tableArn(shared, 'Leases'))).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(actionsOn(shared, role, indexArn(shared, 'by_mount_expiry'))).toEqual(['dynamodb:Query']);
    expect(actionsOn(shared, role, indexArn(shared, 'by_mount_role'))).toEqual(['dynamodb:Query']);
    const all = grantsOf(shared, role).flatMap((g) => g.actions);
    for (const bad of ['dynamodb:*', 'dynamodb:DeleteTable', 'dynamodb:CreateTable', 'dynamodb:UpdateTable', 'dynamodb:BatchWriteItem', 'kms:*', 'kms:Encrypt', 'sts:AssumeRole']) {
      expect(all).not.toContain(bad);
    }
  });

  test('no statement on Resource "*" (without tracing)', () => {
    for (const [, p] of ofType(shared, 'AWS::IAM::Policy')) {
      for (const s of p.Properties.PolicyDocument.Statement as Json[]) expect(arr(s.Resource)).not.toContain('*');
    }
  });

  test('with tracing, "*" is only X-Ray; assumableRoleArns become sts:AssumeRole', () => {
    const role = roleOfFn(options, 'creds');
    const star = grantsOf(options, role).filter((g) => g.resources.includes('*'));
    expect(star.flatMap((g) => g.actions).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(actionsOn(options, role, 'arn:aws:iam::444444444444:role/kubelease-*')).toEqual(['sts:AssumeRole']);
  });
});

describe('IAM: per-function execution roles', () => {
  const on = (fn: BrokerFunction, resource: Json) => actionsOn(perFunction, roleOfFn(perFunction, fn), resource);
  const d = (...actions: string[]) => actions.map((a) => `dynamodb:${a}`);
  const EXPECTED: Record<BrokerFunction, { config: string[]; roles: string[]; leases: string[]; index: string[]; kms: string[] }> = {
    config: { config: d('DeleteItem', 'GetItem', 'PutItem', 'Scan'), roles: d('DeleteItem', 'Query'), leases: d('DeleteItem', 'GetItem', 'UpdateItem'), index: d('Query'), kms: ['kms:Decrypt', 'kms:GenerateDataKey'] },
    roles: { config: d('GetItem'), roles: d('DeleteItem', 'GetItem', 'PutItem', 'Query'), leases: [], index: [], kms: ['kms:Decrypt'] },
    creds: { config: d('GetItem'), roles: d('GetItem'), leases: d('DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'), index: [], kms: ['kms:Decrypt'] },
    leases: { config: d('GetItem'), roles: [], leases: d('DeleteItem', 'GetItem', 'UpdateItem'), index: d('Query'), kms: ['kms:Decrypt'] },
    expire: { config: d('GetItem'), roles: [], leases: [], index: [], kms: ['kms:Decrypt'] },
    sweep: { config: d('GetItem', 'Scan'), roles: [], leases: d('DeleteItem', 'GetItem', 'UpdateItem'), index: d('Query'), kms: ['kms:Decrypt'] },
  };

  test.each([...BROKER_FUNCTIONS])('%s: exactly its own grants', (fn) => {
    const keyArn = { 'Fn::GetAtt': [only(ofType(perFunction, 'AWS::KMS::Key'))[0], 'Arn'] };
    expect({
      config: on(fn, tableArn(perFunction, 'Config')),
      roles: on(fn, tableArn(perFunction, 'Roles')),
      leases: on(fn, tableArn(perFunction, 'Leases')),
      index: on(fn, indexArn(perFunction, 'by_mount_expiry')),
      kms: on(fn, keyArn),
    }).toEqual(EXPECTED[fn]);
    expect(on(fn, indexArn(perFunction, 'by_mount_role'))).toEqual(EXPECTED[fn].index);
  });

  test('expire reads the stream (the item is gone: the OLD_IMAGE carries the plan); nobody else does', () => {
    const stream = { 'Fn::GetAtt': [tableId(perFunction, 'Leases'), 'StreamArn'] };
    expect(on('expire', stream)).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
    for (const fn of BROKER_FUNCTIONS.filter((f) => f !== 'expire')) expect(on(fn, stream)).toEqual([]);
  });

  test('ClusterAccessRole: no AWS permissions, assumable by the six function roles only', () => {
    const mapped = outputOf(perFunction, 'BrokerRoleArn').Value['Fn::GetAtt'][0] as string;
    expect(mapped).toMatch(/^BrokerClusterAccessRole/);
    expect(grantsOf(perFunction, mapped)).toEqual([]);
    expect(perFunction.resources[mapped].Properties.ManagedPolicyArns).toBeUndefined();
    const trusted = (perFunction.resources[mapped].Properties.AssumeRolePolicyDocument.Statement as Json[])
      .flatMap((s) => arr<Json>(s.Principal.AWS))
      .map((p) => p['Fn::GetAtt'][0])
      .sort();
    expect(trusted).toEqual(BROKER_FUNCTIONS.map((fn) => roleOfFn(perFunction, fn)).sort());
    for (const fn of BROKER_FUNCTIONS) expect(on(fn, { 'Fn::GetAtt': [mapped, 'Arn'] })).toEqual(['sts:AssumeRole']);
  });
});

describe('grants cover what the engine calls', () => {
  // store method → DynamoDB action, per lib/adapters/dynamodb/*-store.ts
  const STORE_ACTIONS: Record<string, Record<string, string[]>> = {
    configs: { get: ['GetItem'], exists: ['GetItem'], put: ['PutItem'], delete: ['DeleteItem'], list: ['Scan'], installationId: ['GetItem'], ensureInstallationId: ['GetItem', 'PutItem'] },
    roles: { get: ['GetItem'], put: ['PutItem'], delete: ['DeleteItem'], list: ['Query'], deleteAll: ['Query', 'DeleteItem'] },
    // a conditional write that fails reads the item back: the SDK's retry may have found its own first attempt
    leases: { create: ['PutItem', 'GetItem'], get: ['GetItem'], transition: ['UpdateItem', 'GetItem'], delete: ['DeleteItem'], listByMount: ['Query'] },
  };
  const TABLE_OF: Record<string, 'config' | 'roles' | 'leases'> = { configs: 'config', roles: 'roles', leases: 'leases' };

  test('every store call in lib/engine maps to an action some function is granted', () => {
    const dir = new URL('lib/engine/', ROOT);
    const calls = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/deps\.(configs|roles|leases)\.(\w+)/g)) calls.add(`${m[1]}.${m[2]}`);
    }
    expect(calls.size).toBeGreaterThan(5);
    for (const call of calls) {
      const [store, method] = call.split('.') as [string, string];
      const actions = STORE_ACTIONS[store]?.[method];
      expect([call, actions !== undefined]).toEqual([call, true]); // unknown store method: update FUNCTION_ACCESS + this map
      for (const a of actions ?? []) {
        const granted = BROKER_FUNCTIONS.some((fn) => (FUNCTION_ACCESS[fn][TABLE_OF[store] as 'config'] ?? []).includes(a as never));
        expect([call, a, granted]).toEqual([call, a, true]);
      }
    }
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  test.each([
    ['shared', () => shared],
    ['per-function', () => perFunction],
    ['all options', () => options],
  ])('no unacknowledged finding: %s', (_name, get) => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(get().stack);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  test('every acknowledgment is specific and carries a reason', () => {
    const acks: { path: string; id: string; reason: string }[] = [];
    for (const b of [shared, perFunction, options]) {
      for (const c of b.stack.node.findAll()) {
        for (const md of c.node.metadata) {
          if (md.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
          for (const [id, reason] of Object.entries(md.data as Record<string, string>)) acks.push({ path: c.node.path, id, reason });
        }
      }
    }
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(a.reason.length).toBeGreaterThan(40);
      // IAM rules are acknowledged per finding, never wholesale
      if (/IAM[45]/.test(a.id)) expect(a.id).toMatch(/\[.+\]$/);
      expect(a.path).not.toMatch(/^[^/]+$/); // never on a whole stack
    }
  });
});

describe('account-level API Gateway logging role', () => {
  test('created by default; cloudWatchRole=false synthesizes without it', () => {
    expect(ofType(shared, 'AWS::ApiGateway::Account')).toHaveLength(1);
    expect(ofType(buildStack({ cloudWatchRole: false }), 'AWS::ApiGateway::Account')).toHaveLength(0);
  });
});

describe('construct', () => {
  test('two brokers in one app do not collide (ids are scoped by the construct)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Two', { env: { account: '111111111111', region: 'eu-west-1' } });
    new KubeleaseBroker(stack, 'A', { adminPrincipals: [ADMIN], metricsNamespace: 'Kubelease/A' });
    new KubeleaseBroker(stack, 'B', { adminPrincipals: [ADMIN], metricsNamespace: 'Kubelease/B' });
    expect(() => app.synth()).not.toThrow();
  });
});
