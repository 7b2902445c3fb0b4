/**
 * Private clusters: the functions in a VPC with the endpoints they need; the API stays public
 * behind IAM. And the KMS grants' encryption-context condition, checked against the context the
 * code really sends.
 */
import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { jwtContext } from '../../lib/adapters/dynamodb/config-store.js';
import { KmsSecretBox, type KmsClientLike } from '../../lib/adapters/kms/kms-box.js';
import { BROKER_FUNCTIONS } from '../../infra/broker.js';
import { buildConstruct, buildStack, fnProps, ofType, only, outputOf, roleOfFn, type Built, type Json } from './support.js';

function isolatedVpc(stack: ec2.Vpc['stack']): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'a test VPC, not part of the construct under test: no flow logs needed here' });
  return vpc;
}

describe('VPC placement', () => {
  let b: Built;
  let eksOnly: Built;
  beforeAll(() => {
    b = buildConstruct((stack) => ({ vpc: isolatedVpc(stack) }));
    eksOnly = buildConstruct((stack) => ({ vpc: isolatedVpc(stack), vpcEndpoints: ['eks'] }));
  }, 120_000);

  const subnetRefs = (x: Built) => ofType(x, 'AWS::EC2::Subnet').map(([id]) => ({ Ref: id }));

  test('every function runs in the VPC subnets with the created security group', () => {
    const sg = only(ofType(b, 'AWS::EC2::SecurityGroup').filter(([id]) => id.startsWith('BrokerFunctionsSecurityGroup')))[0];
    for (const fn of BROKER_FUNCTIONS) {
      expect(fnProps(b, fn).VpcConfig).toEqual({ SubnetIds: subnetRefs(b), SecurityGroupIds: [{ 'Fn::GetAtt': [sg, 'GroupId'] }] });
    }
    expect(outputOf(b, 'BrokerSecurityGroupIds').Value).toEqual({ 'Fn::GetAtt': [sg, 'GroupId'] });
  });

  test('the created security group: egress HTTPS only (443, and 6443 for self-managed API servers), no ingress', () => {
    const sg = only(ofType(b, 'AWS::EC2::SecurityGroup').filter(([id]) => id.startsWith('BrokerFunctionsSecurityGroup')))[1].Properties;
    expect(sg.SecurityGroupEgress.map((r: Json) => [r.CidrIp, r.IpProtocol, r.FromPort, r.ToPort])).toEqual([
      ['0.0.0.0/0', 'tcp', 443, 443],
      ['0.0.0.0/0', 'tcp', 6443, 6443],
    ]);
    expect(sg.SecurityGroupIngress).toBeUndefined();
  });

  test('default endpoints: DynamoDB gateway, KMS and STS interface (private DNS, open to the functions only); no EKS', () => {
    const endpoints = Object.fromEntries(ofType(b, 'AWS::EC2::VPCEndpoint').map(([id, e]) => [id.replace(/^Broker/, '').replace(/[0-9A-F]{8}$/, ''), e.Properties]));
    expect(Object.keys(endpoints).sort()).toEqual(['DynamoDbEndpoint', 'KmsEndpoint', 'StsEndpoint']);
    expect(endpoints.DynamoDbEndpoint).toMatchObject({ VpcEndpointType: 'Gateway' });
    expect(endpoints.DynamoDbEndpoint.RouteTableIds).toHaveLength(2);
    expect(endpoints.KmsEndpoint).toMatchObject({ VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.eu-west-1.kms', PrivateDnsEnabled: true, SubnetIds: subnetRefs(b) });
    expect(endpoints.StsEndpoint).toMatchObject({ VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.eu-west-1.sts', PrivateDnsEnabled: true });
    const sg = only(ofType(b, 'AWS::EC2::SecurityGroup').filter(([id]) => id.startsWith('BrokerFunctionsSecurityGroup')))[0];
    const ingress = ofType(b, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    expect(ingress).toHaveLength(2);
    for (const r of ingress) expect(r).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [sg, 'GroupId'] } });
  });

  test('vpcEndpoints chooses: only EKS', () => {
    const names = ofType(eksOnly, 'AWS::EC2::VPCEndpoint').map(([, e]) => e.Properties.ServiceName);
    expect(names).toEqual(['com.amazonaws.eu-west-1.eks']);
  });

  test('the execution role may manage ENIs (AWSLambdaENIManagementAccess); without a VPC it may not', () => {
    const role = b.resources[roleOfFn(b, 'creds')].Properties;
    expect(role.ManagedPolicyArns).toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaENIManagementAccess']] }]);
    const plain = buildStack();
    expect(plain.resources[roleOfFn(plain, 'creds')].Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the API stays public (REGIONAL, IAM), not behind the VPC', () => {
    const api = only(ofType(b, 'AWS::ApiGateway::RestApi'))[1].Properties;
    expect(api.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
    expect(api.Policy.Statement.some((s: Json) => JSON.stringify(s).includes('aws:SourceVpce'))).toBe(false);
  });

  test('cdk-nag clean', () => {
    for (const x of [b, eksOnly]) {
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(x.stack);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    }
  });
});

describe('KMS encryption context: the policy condition matches what the code sends', () => {
  /** IAM's evaluation of the two condition operators the policy uses, for one request context. */
  function allowed(conditions: Json, context: Record<string, string>): boolean {
    const keys = Object.keys(context);
    const forAll = conditions['ForAllValues:StringEquals']['kms:EncryptionContextKeys'] as string[];
    const nulls = conditions.Null as Record<string, string>;
    const forAllOk = keys.every((k) => forAll.includes(k));
    const nullOk = Object.entries(nulls).every(([cond, isNull]) => {
      const key = cond.replace(/^kms:EncryptionContext:/, '');
      return (context[key] === undefined) === (isNull === 'true');
    });
    return forAllOk && nullOk;
  }

  let conditions: Json;
  beforeAll(() => {
    const b = buildStack();
    conditions = only(ofType(b, 'AWS::KMS::Key'))[1].Properties.KeyPolicy.Statement[1].Condition;
  }, 120_000);

  test('the evaluator is not vacuous', () => {
    expect(allowed(conditions, { mount: 'prod-eu' })).toBe(true);
    expect(allowed(conditions, {})).toBe(false);
    expect(allowed(conditions, { mount: 'prod-eu', extra: 'x' })).toBe(false);
    expect(allowed(conditions, { cluster: 'prod-eu' })).toBe(false);
  });

  test('GenerateDataKey (seal) and Decrypt (open) carry a context the policy admits', async () => {
    const sent: { name: string; context: Record<string, string> }[] = [];
    const client: KmsClientLike = {
      send: async (command) => {
        const input = command.input as { EncryptionContext?: Record<string, string> };
        sent.push({ name: command.constructor.name, context: input.EncryptionContext ?? {} });
        // a real-shaped data key: 32 bytes plaintext, an opaque blob
        return { Plaintext: new Uint8Array(32).fill(7), CiphertextBlob: new Uint8Array([1, 2, 3]) };
      },
    };
    const box = new KmsSecretBox({ keyId: 'arn:aws:kms:eu-west-1:111111111111:key/k', client });
    // the context the config store seals and opens service_account_jwt with
    const context = jwtContext('prod-eu');
    const sealed = await box.seal('jwt', context);
    expect(await box.open(sealed, context)).toBe('jwt');
    expect(sent.map((s) => s.name)).toEqual(['GenerateDataKeyCommand', 'DecryptCommand']);
    for (const s of sent) expect([s.name, s.context, allowed(conditions, s.context)]).toEqual([s.name, { mount: 'prod-eu' }, true]);
  });
});
