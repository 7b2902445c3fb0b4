/**
 * Every knob: invalid props fail at synth with one message naming each bad prop; every context
 * key reaches its prop; the `cdk deploy` path wires existing resources named by id or ARN.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { KubeleaseBroker, type KubeleaseBrokerProps } from '../../infra/broker.js';
import { CONTEXT_KEYS, stackPropsFromContext } from '../../infra/context.js';
import { KubeleaseStack } from '../../infra/stack.js';
import { ADMIN, alarmsOf, buildStack, fnProps, ofType, only, outputOf, type Built, type Json } from './support.js';

function synthError(props: Partial<KubeleaseBrokerProps>, region = 'eu-west-1'): string {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region } });
  try {
    new KubeleaseBroker(stack, 'Broker', { adminPrincipals: [ADMIN], ...props });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the construct to refuse these props');
}

describe('invalid props fail at synth, naming each prop', () => {
  test.each<[string, Partial<KubeleaseBrokerProps>, string]>([
    ['bare *', { adminPrincipals: ['*'] }, 'adminPrincipals.0: a bare "*" would make every caller an admin'],
    ['no admin', { adminPrincipals: [] }, 'adminPrincipals: must name at least one admin'],
    ['comma', { adminPrincipals: ['arn:aws:iam::111111111111:role/a,b'] }, 'adminPrincipals.0: must not contain a comma'],
    ['not an ARN', { adminPrincipals: ['platform-admin'] }, 'adminPrincipals.0: must be an IAM or STS ARN'],
    ['account wildcard', { adminPrincipals: ['arn:aws:iam::*:role/admin'] }, 'adminPrincipals.0: must be an IAM or STS ARN'],
    ['account', { allowedAccounts: ['12345'] }, 'allowedAccounts.0: must be a 12-digit AWS account id'],
    ['stage', { stageName: 'a/b' }, 'stageName: must be 1-128 letters'],
    ['waf', { webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:global/webacl/x/y' }, 'webAclArn: must be a REGIONAL WAFv2 web ACL ARN'],
    ['rate', { throttle: { rateLimit: -1 } }, 'throttle.rateLimit: must be a positive number'],
    ['burst', { throttle: { burstLimit: 1.5 } }, 'throttle.burstLimit: burstLimit must be a whole number'],
    ['burst < rate', { throttle: { rateLimit: 100, burstLimit: 10 } }, 'throttle.burstLimit: must be at least rateLimit (100)'],
    ['retention', { logRetention: 8 as never }, 'logRetention: must be one of logs.RetentionDays'],
    ['schedule', { sweepSchedule: Duration.seconds(90) }, 'sweepSchedule: must be whole minutes between 1 minute and 1 day'],
    ['memory low', { memorySize: { creds: 64 } }, 'memorySize.creds: must be at least 128 MB'],
    ['memory key', { memorySize: { nope: 512 } as never }, 'memorySize: Unrecognized key: "nope"'],
    ['concurrency 0', { reservedConcurrency: { expire: 0 } }, 'reservedConcurrency.expire: must be at least 1'],
    ['sweep concurrency', { reservedConcurrency: { sweep: 4 } as never }, 'the sweeper always runs with reserved concurrency 1'],
    ['endpoints without vpc', { vpcEndpoints: ['kms'] }, 'vpcEndpoints: only applies with vpc'],
    ['namespace', { metricsNamespace: 'AWS/Lambda' }, 'metricsNamespace: must be a CloudWatch namespace'],
    ['grace', { orphanGraceSeconds: 0 }, 'orphanGraceSeconds: orphanGraceSeconds must be positive'],
    ['roles', { executionRoles: 'each' as never }, 'executionRoles: must be "shared" or "per-function"'],
    ['assumable', { assumableRoleArns: ['arn:aws:iam::111111111111:user/x'] }, 'assumableRoleArns.0: must be an IAM role ARN'],
    ['latency', { alarmThresholds: { apiLatencyP99Ms: 0 } }, 'alarmThresholds.apiLatencyP99Ms: must be positive'],
  ])('%s', (_name, props, message) => {
    const error = synthError(props);
    expect(error).toContain('KubeleaseBroker S/Broker: invalid props');
    expect(error).toContain(message);
  });

  test('domain: DNS name and a certificate in the stack region', () => {
    const app = new App();
    const stack = new Stack(app, 'C', { env: { account: '111111111111', region: 'eu-west-1' } });
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc');
    const error = synthError({ domain: { domainName: 'Kubelease_Example', certificate } });
    expect(error).toContain('domain.domainName: must be a lower-case DNS name');
    expect(error).toContain("domain.certificate: must be in the stack's region eu-west-1 (a REGIONAL API), not us-east-1");
  });

  test('all problems at once', () => {
    const error = synthError({ adminPrincipals: ['*'], stageName: '', memorySize: { sweep: 20000 } });
    expect(error.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(3);
  });

  test('a placeholder admin built from tokens (KubeleaseStack without adminPrincipals) passes', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new KubeleaseStack(app, 'P', { env: { account: '111111111111', region: 'eu-west-1' }, broker: {} });
    expect(stack.broker.settings.adminPrincipals).toHaveLength(1);
  });
});

describe('context keys (cdk.json / -c)', () => {
  const read = (ctx: Record<string, unknown>) => stackPropsFromContext((k) => ctx[k]);

  test('each key reaches its prop (strings as -c gives them)', () => {
    const props = read({
      stackName: 'KubeleaseProd',
      adminPrincipals: 'arn:aws:iam::111111111111:role/a, arn:aws:iam::111111111111:role/b-*',
      allowedAccounts: '222222222222,333333333333',
      stageName: 'prod',
      tracing: 'true',
      removalPolicy: 'destroy',
      webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/k/1',
      throttleRateLimit: '20',
      throttleBurstLimit: '40',
      logRetentionDays: '90',
      cloudWatchRole: 'false',
      sweepScheduleMinutes: '10',
      memorySize: 'creds=2048,sweep=512',
      reservedConcurrency: '{"creds": 50}',
      domainName: 'kubelease.example.com',
      certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc-123',
      domainBasePath: 'vault',
      hostedZoneId: 'Z0123456789ABC',
      hostedZoneName: 'example.com',
      disableExecuteApiEndpoint: 'true',
      kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      vpcId: 'vpc-0abc',
      subnetIds: 'subnet-0a,subnet-0b',
      securityGroupIds: 'sg-0123',
      vpcEndpoints: 'dynamodb,kms,sts,eks',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:111111111111:oncall',
      alarmApi5xxPerPeriod: '2',
      alarmApiLatencyP99Ms: '3000',
      alarmIteratorAgeSeconds: '300',
      dashboard: 'false',
      metricsNamespace: 'Platform/Kubelease',
      pendingGraceSeconds: '600',
      orphanGraceSeconds: '120',
      readCacheSeconds: '10',
      sourceMaps: 'true',
      assumableRoleArns: 'arn:aws:iam::444444444444:role/kubelease-*',
      executionRoles: 'per-function',
    });
    expect(props).toEqual({
      stackName: 'KubeleaseProd',
      broker: {
        adminPrincipals: ['arn:aws:iam::111111111111:role/a', 'arn:aws:iam::111111111111:role/b-*'],
        allowedAccounts: ['222222222222', '333333333333'],
        stageName: 'prod',
        tracing: true,
        removalPolicy: RemovalPolicy.DESTROY,
        webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/k/1',
        throttle: { rateLimit: 20, burstLimit: 40 },
        logRetention: 90,
        cloudWatchRole: false,
        sweepSchedule: expect.objectContaining({}),
        memorySize: { creds: 2048, sweep: 512 },
        reservedConcurrency: { creds: 50 },
        vpcEndpoints: ['dynamodb', 'kms', 'sts', 'eks'],
        alarmThresholds: { api5xxPerPeriod: 2, apiLatencyP99Ms: 3000, iteratorAgeSeconds: 300 },
        dashboard: false,
        metricsNamespace: 'Platform/Kubelease',
        pendingGraceSeconds: 600,
        orphanGraceSeconds: 120,
        readCacheSeconds: 10,
        sourceMaps: true,
        assumableRoleArns: ['arn:aws:iam::444444444444:role/kubelease-*'],
        executionRoles: 'per-function',
      },
      alarmTopicArn: 'arn:aws:sns:eu-west-1:111111111111:oncall',
      kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      domain: {
        domainName: 'kubelease.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc-123',
        basePath: 'vault',
        disableExecuteApiEndpoint: true,
        hostedZone: { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' },
      },
      vpc: { vpcId: 'vpc-0abc', subnetIds: ['subnet-0a', 'subnet-0b'], securityGroupIds: ['sg-0123'] },
    });
    expect(props.broker.sweepSchedule?.toMinutes()).toBe(10);
  });

  test('cdk.json types (arrays, booleans, numbers, objects) work too; nothing set → only the stack name', () => {
    expect(read({ adminPrincipals: [ADMIN], tracing: true, memorySize: 768, reservedConcurrency: { expire: 3 }, vpcId: 'vpc-1', vpcEndpoints: 'none' })).toEqual({
      stackName: 'Kubelease',
      broker: {
        adminPrincipals: [ADMIN],
        tracing: true,
        memorySize: { config: 768, roles: 768, creds: 768, leases: 768, expire: 768, sweep: 768 },
        reservedConcurrency: { expire: 3 },
        vpcEndpoints: [],
      },
      vpc: { vpcId: 'vpc-1' },
    });
    expect(read({})).toEqual({ stackName: 'Kubelease', broker: {} });
  });

  test('one reservedConcurrency number applies to every function but the sweeper (always 1) and synthesizes', () => {
    const props = read({ adminPrincipals: [ADMIN], reservedConcurrency: '5' });
    expect(props.broker.reservedConcurrency).toEqual({ config: 5, roles: 5, creds: 5, leases: 5, expire: 5 });
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new KubeleaseStack(app, 'C', { env: { account: '111111111111', region: 'eu-west-1' }, broker: props.broker });
    expect(stack.broker.settings.reservedConcurrency).toEqual({ config: 5, roles: 5, creds: 5, leases: 5, expire: 5, sweep: 1 });
  });

  test('bad values name their key, all at once', () => {
    expect(() =>
      read({
        tracing: 'yes',
        removalPolicy: 'snapshot',
        memorySize: 'creds=big',
        reservedConcurrency: 'worker=3',
        kmsKeyArn: 'alias/kubelease',
        domainName: 'kubelease.example.com',
        subnetIds: 'subnet-0a',
        vpcEndpoints: 's3',
        throttleRateLimit: 'fast',
      }),
    ).toThrow(
      [
        'kubelease: invalid context values',
        '  - -c removalPolicy: must be retain or destroy, got "snapshot"',
        '  - -c throttleRateLimit: must be a number, got "fast"',
        '  - -c vpcEndpoints: "s3" is not one of dynamodb, kms, sts, eks (or "none"), got ["s3"]',
        '  - -c reservedConcurrency: "worker" is not one of config, roles, creds, leases, expire, sweep, got "worker=3"',
        '  - -c tracing: must be true or false, got "yes"',
        '  - -c memorySize: the value for creds must be a number, got "creds=big"',
        '  - -c domainName and -c certificateArn: give both or neither',
        '  - -c subnetIds: only applies with -c vpcId',
        '  - -c vpcEndpoints: only applies with -c vpcId',
        '  - -c kmsKeyArn: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got "alias/kubelease"',
      ].join('\n'),
    );
  });

  test('every key is documented in docs/deploy.md', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    const rows = doc.split('\n').filter((l) => l.startsWith('|'));
    for (const key of CONTEXT_KEYS) expect([key, rows.some((r) => r.includes(`\`${key}\``))]).toEqual([key, true]);
  });
});

describe('the cdk deploy path: existing resources by id and ARN', () => {
  const LOOKUP = 'vpc-provider:account=111111111111:filter.vpc-id=vpc-0abc:region=eu-west-1:returnAsymmetricSubnets=true';
  const subnets = (type: string, ids: string[]) => ({
    name: type,
    type,
    subnets: ids.map((id, i) => ({ subnetId: id, availabilityZone: `eu-west-1${'ab'[i]}`, routeTableId: `rtb-${id.slice(7)}` })),
  });
  let b: Built;

  beforeAll(() => {
    const ctx: Record<string, unknown> = {
      adminPrincipals: ADMIN,
      kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      vpcId: 'vpc-0abc',
      subnetIds: 'subnet-0a,subnet-0b',
      securityGroupIds: 'sg-0123',
      vpcEndpoints: 'dynamodb,kms',
      domainName: 'kubelease.example.com',
      certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc-123',
      hostedZoneId: 'Z0123456789ABC',
      hostedZoneName: 'example.com',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:111111111111:oncall',
    };
    const { stackName: _ignored, ...props } = stackPropsFromContext((k) => ctx[k]);
    b = buildStack(props.broker, { ...props }, {
      [LOOKUP]: {
        vpcId: 'vpc-0abc',
        vpcCidrBlock: '10.0.0.0/16',
        availabilityZones: [],
        subnetGroups: [subnets('Private', ['subnet-0a', 'subnet-0b']), subnets('Public', ['subnet-0c', 'subnet-0d'])],
      },
    });
  }, 120_000);

  test('existing key: no key created; functions and grants use the given ARN under the mount context', () => {
    const arn = 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(ofType(b, 'AWS::KMS::Key')).toHaveLength(0);
    expect(fnProps(b, 'creds').Environment.Variables.KUBELEASE_KMS_KEY_ID).toBe(arn);
    const statements = ofType(b, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
    expect(statements.filter((s) => s.Resource === arn)).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: arn,
        Condition: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['mount'] }, Null: { 'kms:EncryptionContext:mount': 'false' } },
      },
    ]);
    expect(outputOf(b, 'KmsKeyArn').Value).toBe(arn);
  });

  test('VPC by id: the given subnets and security group, only the endpoints asked for', () => {
    for (const fn of ['config', 'creds', 'sweep'] as const) {
      expect(fnProps(b, fn).VpcConfig).toEqual({ SubnetIds: ['subnet-0a', 'subnet-0b'], SecurityGroupIds: ['sg-0123'] });
    }
    const endpoints = ofType(b, 'AWS::EC2::VPCEndpoint').map(([, e]) => e.Properties);
    expect(endpoints.map((e) => [e.VpcEndpointType, JSON.stringify(e.ServiceName)]).sort()).toEqual([
      ['Gateway', JSON.stringify({ 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] })],
      ['Interface', '"com.amazonaws.eu-west-1.kms"'],
    ]);
    expect(endpoints.find((e) => e.VpcEndpointType === 'Gateway').RouteTableIds).toEqual(['rtb-0a', 'rtb-0b']);
    expect(endpoints.find((e) => e.VpcEndpointType === 'Interface').SubnetIds).toEqual(['subnet-0a', 'subnet-0b']);
    // the endpoint admits the functions' security group on 443
    expect(ofType(b, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties)).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: 'sg-0123' }),
    ]);
    expect(ofType(b, 'AWS::EC2::SecurityGroup').map(([id]) => id)).toEqual([expect.stringMatching(/^BrokerKmsEndpointSecurityGroup/)]);
    expect(outputOf(b, 'BrokerSecurityGroupIds').Value).toBe('sg-0123');
  });

  test('custom domain by certificate ARN, with the alias record in the zone', () => {
    const domain = only(ofType(b, 'AWS::ApiGateway::DomainName'));
    expect(domain[1].Properties).toEqual({
      DomainName: 'kubelease.example.com',
      RegionalCertificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc-123',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    const record = only(ofType(b, 'AWS::Route53::RecordSet'))[1].Properties;
    expect(record).toMatchObject({ Name: 'kubelease.example.com.', Type: 'A', HostedZoneId: 'Z0123456789ABC' });
    expect(record.AliasTarget.DNSName).toEqual({ 'Fn::GetAtt': [domain[0], 'RegionalDomainName'] });
    expect(outputOf(b, 'DomainUrl').Value).toBe('https://kubelease.example.com/');
  });

  test('alarm topic by ARN', () => {
    for (const a of Object.values(alarmsOf(b))) expect(a.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:111111111111:oncall']);
  });
});
