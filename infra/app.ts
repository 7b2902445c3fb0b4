/**
 * CDK app: `npx cdk deploy -c adminPrincipals=arn:aws:iam::123456789012:role/platform-admin`
 * Every construct prop is a context key (infra/context.ts; docs/deploy.md lists them).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackPropsFromContext } from './context.js';
import { KubeleaseStack } from './stack.js';

const app = new App();
const { stackName, ...props } = stackPropsFromContext((key) => app.node.tryGetContext(key));

new KubeleaseStack(app, stackName, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  ...props,
});

// cdk-nag 3 is a CDK policy-validation plugin (not an Aspect any more): any unacknowledged
// finding fails `cdk synth` and lands in cdk.out/policy-validation-report.json.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
