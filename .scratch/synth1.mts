import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Template } from 'aws-cdk-lib/assertions';
import { KubeleaseBroker } from '../infra/broker.ts';
const ctx = JSON.parse(readFileSync('/work/wt/infra/cdk.json','utf8')).context;
const app = new App({ context: { ...ctx, 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'iso', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
new KubeleaseBroker(stack, 'Broker', { adminPrincipals: ['arn:aws:iam::111111111111:role/admin'], vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
const t = Template.fromStack(stack).toJSON();
const R = t.Resources;
for (const [id, r] of Object.entries<any>(R)) {
  if (['AWS::Lambda::Permission','AWS::Lambda::EventInvokeConfig','AWS::EC2::VPCEndpoint','AWS::EC2::SecurityGroup','AWS::EC2::SecurityGroupIngress','AWS::EC2::SecurityGroupEgress','AWS::KMS::Key'].includes(r.Type)) console.log(id, JSON.stringify(r.Properties).slice(0, 900));
}
const f = Object.entries<any>(R).find(([id, r]) => id.startsWith('BrokerSweepFunction') && r.Type === 'AWS::Lambda::Function');
console.log(JSON.stringify(f?.[1].Properties.VpcConfig), f?.[1].Properties.ReservedConcurrentExecutions);
const role = Object.entries<any>(R).find(([id, r]) => id.startsWith('BrokerBrokerRole') && r.Type === 'AWS::IAM::Role');
console.log(JSON.stringify(role?.[1].Properties.ManagedPolicyArns));
