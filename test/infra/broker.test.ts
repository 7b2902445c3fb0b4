/**
 * The deployed shape of the broker, asserted on synthesized templates. Bundling is skipped
 * (`aws:cdk:bundling-stacks: []`), so these run in seconds; `npm run synth` does the real
 * esbuild bundles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { tables, TABLE_ENV, type TableDef } from '../../lib/adapters/dynamodb/tables.js';
import { routes } from '../../lib/http/routes.js';
import { BROKER_FUNCTIONS, FUNCTION_ACCESS, KubeleaseBroker, type BrokerFunction, type KubeleaseBrokerProps } from '../../infra/broker.js';
import { KubeleaseStack } from '../../infra/stack.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped */
type Json = any;

const ROOT = new URL('../../', import.meta.url);
const cdkContext = (JSON.parse(readFileSync(new URL('cdk.json', ROOT), 'utf8')) as { context: Record<string, unknown> }).context;
const ADMIN = 'arn:aws:iam::111111111111:role/platform-admin';

interface Built {
  stack: Stack;
  template: Template;
  resources: Record<string, Json>;
}

/** Same feature flags as `cdk synth`, no bundling, cdk-nag registered as in infra/app.ts. */
function build(broker: Partial<KubeleaseBrokerProps> = {}, extra?: (stack: Stack) => KubeleaseBrokerProps['alarmTopic']): Built {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  let stack: Stack;
  if (extra) {
    // a plain stack so the test can create the SNS topic in it
    stack = new Stack(app, 'KubeleaseTopic', { env: { account: '111111111111', region: 'eu-west-1' } });
    new KubeleaseBroker(stack, 'Broker', { adminPrincipals: [ADMIN], ...broker, alarmTopic: extra(stack) } as KubeleaseBrokerProps);
  } else {
    stack = new KubeleaseStack(app, 'Kubelease', { env: { account: '111111111111', region: 'eu-west-1' }, broker: { adminPrincipals: [ADMIN], ...broker } });
  }
  const template = Template.fromStack(stack); // runs the cdk-nag plugin: throws on any finding
  return { stack, template, resources: template.toJSON().Resources as Record<string, Json> };
}

const ofType = (b: Built, type: string): [string, Json][] => Object.entries(b.resources).filter(([, r]) => r.Type === type);
const only = <T>(xs: T[]): T => {
  expect(xs).toHaveLength(1);
  return xs[0] as T;
};
const logicalIdOf = (b: Built, pathPart: string, type: string): string =>
  only(ofType(b, type).filter(([id]) => id.startsWith(`Broker${pathPart}`)))[0];
const fnId = (b: Built, fn: BrokerFunction) => logicalIdOf(b, `${cap(fn)}Function`, 'AWS::Lambda::Function');
const tableId = (b: Built, def: TableDef) => logicalIdOf(b, `${def.id}Table`, 'AWS::DynamoDB::GlobalTable');
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const arr = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

interface Grant {
  actions: string[];
  resources: Json[];
}
/** All Allow statements attached to a role (inline policies of AWS::IAM::Policy resources). */
function grantsOf(b: Built, roleId: string): Grant[] {
  return ofType(b, 'AWS::IAM::Policy')
    .filter(([, p]) => arr<Json>(p.Properties.Roles).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[])
    .filter((s) => s.Effect === 'Allow')
    .map((s) => ({ actions: arr<string>(s.Action), resources: arr<Json>(s.Resource) }));
}
const roleOfFn = (b: Built, fn: BrokerFunction): string => b.resources[fnId(b, fn)].Properties.Role['Fn::GetAtt'][0];
/** Actions a role has on exactly this resource expression (deep-equal). */
function actionsOn(b: Built, roleId: string, resource: Json): Set<string> {
  const key = JSON.stringify(resource);
  return new Set(grantsOf(b, roleId).flatMap((g) => (g.resources.some((r) => JSON.stringify(r) === key) ? g.actions : [])));
}
const tableArn = (b: Built, def: TableDef) => ({ 'Fn::GetAtt': [tableId(b, def), 'Arn'] });
const indexArn = (b: Built, name: string) => ({ 'Fn::Join': ['', [tableArn(b, tables.leases), `/index/${name}`]] });
const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

let shared: Built;
let perFunction: Built;
let options: Built;

beforeAll(() => {
  shared = build();
  perFunction = build({ executionRoles: 'per-function' });
  options = build(
    {
      allowedAccounts: ['222222222222', '333333333333'],
      sweepSchedule: Duration.minutes(10),
      logRetention: 7,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingGraceSeconds: 120,
      orphanGraceSeconds: 900,
      throttle: { rateLimit: 5, burstLimit: 10 },
      tracing: true,
      webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/kubelease/abc',
      assumableRoleArns: ['arn:aws:iam::444444444444:role/kubelease-*'],
      stageName: 'prod',
    },
    (stack) => new sns.Topic(stack, 'Alarms', { enforceSSL: true }),
  );
}, 120_000);

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
        expect(JSON.stringify(m?.integration.Uri)).toContain(`"${fnId(shared, route.fn)}"`);
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
    options.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/kubelease/abc',
    });
  });

  test('account-level CloudWatch role for API Gateway logging', () => {
    shared.template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  test('API Gateway errors use the Vault envelope', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      shared.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseTemplates: { 'application/json': '{"errors":[$context.error.messageString]}' },
      });
    }
  });

  test('one invoke permission per HTTP function, scoped to this API', () => {
    const perms = ofType(shared, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com');
    const targets = perms.map(([, p]) => p.Properties.FunctionName['Fn::GetAtt'][0]).sort();
    expect(targets).toEqual(['config', 'roles', 'creds', 'leases'].map((f) => fnId(shared, f as BrokerFunction)).sort());
    for (const [, p] of perms) expect(JSON.stringify(p.Properties.SourceArn)).toContain('BrokerApi');
  });
});

describe('DynamoDB', () => {
  test.each(Object.values(tables) as TableDef[])('%s table follows tables.ts', (def) => {
    const t = shared.resources[tableId(shared, def)];
    const p = t.Properties;
    expect(t.DeletionPolicy).toBe('Retain');
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.Replicas[0].PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.Replicas[0].DeletionProtectionEnabled).toBe(true);
    expect(p.SSESpecification.SSEEnabled).toBe(true);
    expect(p.KeySchema).toEqual([
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : []),
    ]);
    expect(p.TimeToLiveSpecification).toEqual(def.ttlAttribute ? { AttributeName: def.ttlAttribute, Enabled: true } : undefined);
    expect(p.StreamSpecification).toEqual(def.stream ? { StreamViewType: def.stream } : undefined);
    const gsis = (p.GlobalSecondaryIndexes ?? []) as Json[];
    expect(gsis).toEqual(
      (def.globalSecondaryIndexes ?? []).map((g) => ({
        IndexName: g.name,
        KeySchema: [
          { AttributeName: g.partitionKey.name, KeyType: 'HASH' },
          ...(g.sortKey ? [{ AttributeName: g.sortKey.name, KeyType: 'RANGE' }] : []),
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
  });

  test('removalPolicy DESTROY turns off deletion protection', () => {
    for (const def of Object.values(tables) as TableDef[]) {
      const t = options.resources[tableId(options, def)];
      expect(t.DeletionPolicy).toBe('Delete');
      expect(t.Properties.Replicas[0].DeletionProtectionEnabled).toBe(false);
    }
  });
});

describe('KMS', () => {
  test('key rotates and is retained; functions get its ARN', () => {
    const [id, key] = only(ofType(shared, 'AWS::KMS::Key'));
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    for (const fn of BROKER_FUNCTIONS) {
      expect(shared.resources[fnId(shared, fn)].Properties.Environment.Variables.KUBELEASE_KMS_KEY_ID).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    }
  });
});

describe('functions', () => {
  test('runtime, architecture, memory, timeouts, log groups', () => {
    const fns = ofType(shared, 'AWS::Lambda::Function');
    expect(fns).toHaveLength(BROKER_FUNCTIONS.length);
    for (const [, f] of fns) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 512, Handler: 'index.handler' });
    }
    const timeout = (fn: BrokerFunction) => shared.resources[fnId(shared, fn)].Properties.Timeout as number;
    for (const fn of ['config', 'roles', 'creds', 'leases'] as const) expect(timeout(fn)).toBeLessThanOrEqual(29);
    expect(timeout('expire')).toBe(120);
    expect(timeout('sweep')).toBe(300);
    for (const fn of BROKER_FUNCTIONS) {
      const lg = shared.resources[fnId(shared, fn)].Properties.LoggingConfig.LogGroup.Ref as string;
      expect(shared.resources[lg].Properties.RetentionInDays).toBe(30);
      expect(options.resources[options.resources[fnId(options, fn)].Properties.LoggingConfig.LogGroup.Ref].Properties.RetentionInDays).toBe(7);
    }
  });

  test('environment', () => {
    for (const fn of BROKER_FUNCTIONS) {
      const env = shared.resources[fnId(shared, fn)].Properties.Environment.Variables as Record<string, Json>;
      expect(env).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'kubelease',
        POWERTOOLS_METRICS_NAMESPACE: 'Kubelease',
        KUBELEASE_ADMIN_PRINCIPALS: ADMIN,
      });
      for (const def of Object.values(tables) as TableDef[]) {
        const key = (Object.keys(tables) as (keyof typeof tables)[]).find((k) => tables[k].id === def.id) as keyof typeof tables;
        expect(env[TABLE_ENV[key]]).toEqual({ Ref: tableId(shared, def) });
      }
      expect(env.KUBELEASE_PENDING_GRACE_SECONDS).toBeUndefined();
      const opt = options.resources[fnId(options, fn)].Properties.Environment.Variables as Record<string, Json>;
      expect(opt).toMatchObject({ KUBELEASE_PENDING_GRACE_SECONDS: '120', KUBELEASE_ORPHAN_GRACE_SECONDS: '900' });
      expect(options.resources[fnId(options, fn)].Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  test('admin principals are joined with commas and may not contain one', () => {
    const b = build({ adminPrincipals: [ADMIN, 'arn:aws:iam::111111111111:role/ci-*'] });
    expect(b.resources[fnId(b, 'config')].Properties.Environment.Variables.KUBELEASE_ADMIN_PRINCIPALS).toBe(
      `${ADMIN},arn:aws:iam::111111111111:role/ci-*`,
    );
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S');
    expect(() => new KubeleaseBroker(stack, 'B', { adminPrincipals: [] })).toThrow(/adminPrincipals/);
    expect(() => new KubeleaseBroker(stack, 'C', { adminPrincipals: ['a,b'] })).toThrow(/comma/);
  });
});

describe('expiry paths', () => {
  test('leases stream → expire: TTL removals only, bisect, retries, DLQ, partial batch failures', () => {
    const m = only(ofType(shared, 'AWS::Lambda::EventSourceMapping'))[1].Properties;
    expect(m.FunctionName).toEqual({ Ref: fnId(shared, 'expire') });
    expect(m.EventSourceArn).toEqual({ 'Fn::GetAtt': [tableId(shared, tables.leases), 'StreamArn'] });
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

describe('alarms', () => {
  test('DLQ depth and errors of every function', () => {
    const alarms = ofType(shared, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms).toHaveLength(1 + BROKER_FUNCTIONS.length);
    const dlq = alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlq).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    for (const fn of BROKER_FUNCTIONS) {
      const a = alarms.find((x) => x.MetricName === 'Errors' && x.Dimensions[0].Value.Ref === fnId(shared, fn));
      expect(a).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      expect(a.AlarmActions).toBeUndefined();
    }
  });

  test('alarm topic receives alarm and OK notifications', () => {
    const topicId = only(ofType(options, 'AWS::SNS::Topic'))[0];
    for (const [, a] of ofType(options, 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
  });
});

describe('outputs', () => {
  test('API URL, table names, KMS key, DLQ and the role to map in EKS', () => {
    const outputs = shared.template.toJSON().Outputs as Record<string, Json>;
    const byName = (n: string) => only(Object.entries(outputs).filter(([k]) => k.startsWith(`Broker${n}`)))[1];
    expect(JSON.stringify(byName('ApiUrl').Value)).toContain('execute-api');
    for (const def of Object.values(tables) as TableDef[]) expect(byName(`${def.id}TableName`).Value).toEqual({ Ref: tableId(shared, def) });
    expect(byName('BrokerRoleArn').Value).toEqual({ 'Fn::GetAtt': [roleOfFn(shared, 'creds'), 'Arn'] });
    expect(byName('KmsKeyArn')).toBeDefined();
    expect(byName('ExpireDlqUrl')).toBeDefined();
  });
});

describe('IAM: shared execution role (default)', () => {
  test('all six functions run as one role; it is the BrokerRoleArn output', () => {
    const roles = new Set(BROKER_FUNCTIONS.map((fn) => roleOfFn(shared, fn)));
    expect(roles.size).toBe(1);
    shared.template.resourceCountIs('AWS::IAM::Role', 2); // + the API Gateway account logging role
  });

  test('holds exactly the union of FUNCTION_ACCESS, item-level only', () => {
    const role = roleOfFn(shared, 'creds');
    for (const key of ['config', 'roles', 'leases'] as const) {
      const want = new Set(
        BROKER_FUNCTIONS.flatMap((fn) => FUNCTION_ACCESS[fn][key] ?? [])
          .filter((a) => !(key === 'leases' && a === 'Query'))
          .map((a) => `dynamodb:${a}`),
      );
      expect([...actionsOn(shared, role, tableArn(shared, tables[key]))].sort()).toEqual([...want].sort());
    }
    for (const g of tables.leases.globalSecondaryIndexes) {
      expect([...actionsOn(shared, role, indexArn(shared, g.name))]).toEqual(['dynamodb:Query']);
    }
    const all = grantsOf(shared, role).flatMap((g) => g.actions);
    for (const bad of ['dynamodb:*', 'dynamodb:DeleteTable', 'dynamodb:CreateTable', 'dynamodb:UpdateTable', 'dynamodb:BatchWriteItem', 'kms:*', 'kms:Encrypt', 'sts:AssumeRole']) {
      expect(all).not.toContain(bad);
    }
    expect(actionsOn(shared, role, tableArn(shared, tables.leases)).has('dynamodb:Scan')).toBe(false);
    expect(actionsOn(shared, role, tableArn(shared, tables.roles)).has('dynamodb:Scan')).toBe(false);
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
    expect([...actionsOn(options, role, 'arn:aws:iam::444444444444:role/kubelease-*')]).toEqual(['sts:AssumeRole']);
  });
});

describe('IAM: per-function execution roles', () => {
  const role = (fn: BrokerFunction) => roleOfFn(perFunction, fn);
  const on = (fn: BrokerFunction, resource: Json) => actionsOn(perFunction, role(fn), resource);
  const config = () => tableArn(perFunction, tables.config);
  const rolesT = () => tableArn(perFunction, tables.roles);
  const leases = () => tableArn(perFunction, tables.leases);
  const keyArn = () => ({ 'Fn::GetAtt': [only(ofType(perFunction, 'AWS::KMS::Key'))[0], 'Arn'] });

  test('six distinct roles, each exactly FUNCTION_ACCESS', () => {
    expect(new Set(BROKER_FUNCTIONS.map(role)).size).toBe(6);
    for (const fn of BROKER_FUNCTIONS) {
      const access = FUNCTION_ACCESS[fn];
      expect([...on(fn, config())].sort()).toEqual((access.config ?? []).map((a) => `dynamodb:${a}`).sort());
      expect([...on(fn, rolesT())].sort()).toEqual((access.roles ?? []).map((a) => `dynamodb:${a}`).sort());
      expect([...on(fn, leases())].sort()).toEqual(
        (access.leases ?? []).filter((a) => a !== 'Query').map((a) => `dynamodb:${a}`).sort(),
      );
      expect([...on(fn, keyArn())].sort()).toEqual([...access.kms].sort());
    }
  });

  test('meaningful boundaries', () => {
    // roles fn cannot touch leases at all; creds cannot scan or drop config
    for (const a of [...WRITE, 'dynamodb:GetItem', 'dynamodb:Query']) expect(on('roles', leases()).has(a)).toBe(false);
    for (const g of tables.leases.globalSecondaryIndexes) expect(on('roles', indexArn(perFunction, g.name)).size).toBe(0);
    for (const a of ['dynamodb:Scan', 'dynamodb:DeleteTable', ...WRITE]) expect(on('creds', config()).has(a)).toBe(false);
    // only the config function can seal a JWT (GenerateDataKey) or write the config table
    for (const fn of BROKER_FUNCTIONS.filter((f) => f !== 'config')) {
      expect(on(fn, keyArn()).has('kms:GenerateDataKey')).toBe(false);
      for (const a of WRITE) expect(on(fn, config()).has(a)).toBe(false);
    }
    // expire works from the stream image: no item access to leases, but stream read
    expect(on('expire', leases()).size).toBe(0);
    expect(on('expire', { 'Fn::GetAtt': [tableId(perFunction, tables.leases), 'StreamArn'] })).toEqual(
      new Set(['dynamodb:ListStreams', 'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']),
    );
    expect(on('creds', { 'Fn::GetAtt': [tableId(perFunction, tables.leases), 'StreamArn'] }).size).toBe(0);
  });

  test('ClusterAccessRole: no AWS permissions, assumable by the six function roles only', () => {
    const outputs = perFunction.template.toJSON().Outputs as Record<string, Json>;
    const mapped = only(Object.entries(outputs).filter(([k]) => k.startsWith('BrokerBrokerRoleArn')))[1].Value['Fn::GetAtt'][0] as string;
    expect(mapped).toMatch(/^BrokerClusterAccessRole/);
    expect(grantsOf(perFunction, mapped)).toEqual([]);
    expect(perFunction.resources[mapped].Properties.ManagedPolicyArns).toBeUndefined();
    const trusted = (perFunction.resources[mapped].Properties.AssumeRolePolicyDocument.Statement as Json[])
      .flatMap((s) => arr<Json>(s.Principal.AWS))
      .map((p) => p['Fn::GetAtt'][0])
      .sort();
    expect(trusted).toEqual(BROKER_FUNCTIONS.map(role).sort());
    for (const fn of BROKER_FUNCTIONS) expect([...on(fn, { 'Fn::GetAtt': [mapped, 'Arn'] })]).toEqual(['sts:AssumeRole']);
  });
});

describe('grants cover what the engine calls', () => {
  // store method → DynamoDB action, per lib/adapters/dynamodb/*-store.ts
  const STORE_ACTIONS: Record<string, Record<string, string[]>> = {
    configs: { get: ['GetItem'], put: ['PutItem'], delete: ['DeleteItem'], list: ['Scan'], installationId: ['GetItem'], ensureInstallationId: ['GetItem', 'PutItem'] },
    roles: { get: ['GetItem'], put: ['PutItem'], delete: ['DeleteItem'], list: ['Query'], deleteAll: ['Query', 'DeleteItem'] },
    leases: { create: ['PutItem'], get: ['GetItem'], transition: ['UpdateItem'], delete: ['DeleteItem'], listByMount: ['Query'] },
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
  test('cloudWatchRole=false synthesizes without creating the account role', () => {
    const withRole = build();
    const without = build({ cloudWatchRole: false });
    expect(ofType(withRole, 'AWS::ApiGateway::Account')).toHaveLength(1);
    expect(ofType(without, 'AWS::ApiGateway::Account')).toHaveLength(0);
  });
});
