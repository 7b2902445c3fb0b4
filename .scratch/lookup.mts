import { App } from 'aws-cdk-lib';
import { KubeleaseStack } from '../infra/stack.ts';
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
new KubeleaseStack(app, 'K', { env: { account: '111111111111', region: 'eu-west-1' }, broker: { adminPrincipals: ['arn:aws:iam::111111111111:role/a'] }, vpc: { vpcId: 'vpc-0abc' } });
console.log(JSON.stringify(app.synth().manifest.missing, null, 1));
