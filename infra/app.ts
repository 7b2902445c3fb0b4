/**
 * CDK app: `npx cdk deploy -c adminPrincipals=arn:aws:iam::123456789012:role/platform-admin`
 * Context (all optional): adminPrincipals, allowedAccounts (comma-separated or JSON arrays),
 * stackName, alarmTopicArn, assumableRoleArns, executionRoles (shared | per-function).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KubeleaseStack } from './stack.js';

const app = new App();

function list(key: string): string[] | undefined {
  const v: unknown = app.node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
const str = (key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return typeof v === 'string' && v !== '' ? v : undefined;
};

const executionRoles = str('executionRoles');
if (executionRoles !== undefined && executionRoles !== 'shared' && executionRoles !== 'per-function') {
  throw new Error(`-c executionRoles must be "shared" or "per-function", not "${executionRoles}"`);
}
const allowedAccounts = list('allowedAccounts');
const assumableRoleArns = list('assumableRoleArns');
const alarmTopicArn = str('alarmTopicArn');

new KubeleaseStack(app, str('stackName') ?? 'Kubelease', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  broker: {
    adminPrincipals: list('adminPrincipals') ?? [],
    ...(allowedAccounts ? { allowedAccounts } : {}),
    ...(assumableRoleArns ? { assumableRoleArns } : {}),
    ...(executionRoles ? { executionRoles } : {}),
  },
  ...(alarmTopicArn ? { alarmTopicArn } : {}),
});

// cdk-nag 3 is a CDK policy-validation plugin (not an Aspect any more): any unacknowledged
// finding fails `cdk synth` and lands in cdk.out/policy-validation-report.json.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
