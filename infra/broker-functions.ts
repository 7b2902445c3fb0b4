/**
 * The six Lambda functions (one NodejsFunction per entry under functions/) and their shared
 * defaults: ESM bundles on Node 24 / arm64, one log group each, the same environment for all.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TABLE_ENV } from '../lib/adapters/dynamodb/tables.js';
import type { FunctionName } from '../lib/http/routes.js';
import type { KubeleaseBrokerProps } from './broker.js';
import type { BrokerTables } from './broker-tables.js';

/** Every Lambda entry under functions/. The HTTP ones are the route table's `fn` values. */
export type BrokerFunction = FunctionName | 'expire' | 'sweep';
export const BROKER_FUNCTIONS: readonly BrokerFunction[] = ['config', 'roles', 'creds', 'leases', 'expire', 'sweep'];

export type BrokerFunctions = Record<BrokerFunction, nodejs.NodejsFunction>;

/** `creds` → `Creds`: the prefix of a function's construct ids (`CredsFunction`, `CredsRole`, …). */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Resolved from this file so other CDK apps that import the construct bundle the right code. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** ESM bundles: esbuild's require() shim needs a real `require` for CommonJS dependencies. */
const ESM_REQUIRE_BANNER = "import { createRequire as __kl_createRequire } from 'node:module'; const require = __kl_createRequire(import.meta.url);";

const TIMEOUTS: Record<BrokerFunction, Duration> = {
  // API Gateway's integration timeout is 29 s: stop just before it so the log shows the timeout
  config: Duration.seconds(28),
  roles: Duration.seconds(28),
  creds: Duration.seconds(28),
  leases: Duration.seconds(28),
  expire: Duration.minutes(2),
  sweep: Duration.minutes(5),
};

export interface BrokerFunctionsProps {
  props: Pick<KubeleaseBrokerProps, 'adminPrincipals' | 'pendingGraceSeconds' | 'orphanGraceSeconds' | 'tracing' | 'functionsDir'>;
  roles: Record<BrokerFunction, iam.Role>;
  key: kms.IKey;
  tables: BrokerTables;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

export function createFunctions(scope: Construct, { props, roles, key, tables, logRetention, removalPolicy }: BrokerFunctionsProps): BrokerFunctions {
  const functionsDir = props.functionsDir ?? join(PACKAGE_ROOT, 'functions');
  const environment: Record<string, string> = {
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: 'kubelease',
    POWERTOOLS_METRICS_NAMESPACE: 'Kubelease',
    KUBELEASE_ADMIN_PRINCIPALS: props.adminPrincipals.join(','),
    KUBELEASE_KMS_KEY_ID: key.keyArn,
    // every function builds all three stores (lib/lambda/runtime.ts), so all get all names
    [TABLE_ENV.config]: tables.config.tableName,
    [TABLE_ENV.roles]: tables.roles.tableName,
    [TABLE_ENV.leases]: tables.leases.tableName,
    ...(props.pendingGraceSeconds !== undefined ? { KUBELEASE_PENDING_GRACE_SECONDS: String(props.pendingGraceSeconds) } : {}),
    ...(props.orphanGraceSeconds !== undefined ? { KUBELEASE_ORPHAN_GRACE_SECONDS: String(props.orphanGraceSeconds) } : {}),
  };
  const functions = {} as BrokerFunctions;
  for (const fn of BROKER_FUNCTIONS) {
    const logGroup = new logs.LogGroup(scope, `${capitalize(fn)}Logs`, { retention: logRetention, removalPolicy });
    logGroup.grantWrite(roles[fn]);
    functions[fn] = new nodejs.NodejsFunction(scope, `${capitalize(fn)}Function`, {
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
  return functions;
}
