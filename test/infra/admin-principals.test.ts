/** Issue 10, item 8: the construct refuses admin principals that are not IAM ARN patterns at synth. */
import { App, Stack } from 'aws-cdk-lib';
import { KubeleaseBroker } from '../../infra/broker.js';
import { KubeleaseStack } from '../../infra/stack.js';

const env = { account: '111111111111', region: 'eu-west-1' };

test.each(['*', 'arn:aws:iam::*:role/admin', 'arn:*:*::*:*', 'platform-admin'])('adminPrincipals [%j] fails the synth', (p) => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S', { env });
  expect(() => new KubeleaseBroker(stack, 'Broker', { adminPrincipals: ['arn:aws:iam::111111111111:role/platform-admin', p] })).toThrow(/adminPrincipals/);
});

test('the placeholder admin of the stack (CloudFormation tokens) passes', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  expect(() => new KubeleaseStack(app, 'Kubelease', { env, broker: {} })).not.toThrow();
});
