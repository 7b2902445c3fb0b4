/**
 * The six Lambda functions (one per entry under functions/) and their shared defaults: ESM
 * bundles on Node 24 / arm64, one log group each, the same environment for all, optional VPC
 * placement and X-Ray. Code comes from the package's prebuilt bundles when the construct runs
 * from the packed package (dist/), else functions/ is bundled at synth (bundling.ts).
 */
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TABLE_ENV } from '../lib/tables.js';
import type { BrokerTables } from './broker-tables.js';
import { PACKAGE_ROOT, bundledCode, lambdaEnvironmentNodeOptions, prebuiltBundle } from './bundling.js';
import { BROKER_FUNCTIONS, type BrokerFunction, type ResolvedBrokerProps } from './props.js';

export { BROKER_FUNCTIONS, type BrokerFunction } from './props.js';

export type BrokerFunctions = Record<BrokerFunction, lambda.Function>;

/** `creds` → `Creds`: the prefix of a function's construct ids (`CredsFunction`, `CredsRole`, …). */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

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
  props: ResolvedBrokerProps;
  roles: Record<BrokerFunction, iam.Role>;
  key: kms.IKey;
  tables: BrokerTables;
  /** Security groups of the functions when they run in a VPC. */
  securityGroups: ec2.ISecurityGroup[] | undefined;
}

export function createFunctions(scope: Construct, { props, roles, key, tables, securityGroups }: BrokerFunctionsProps): BrokerFunctions {
  const nodeOptions = lambdaEnvironmentNodeOptions(props.sourceMaps);
  const environment: Record<string, string> = {
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    POWERTOOLS_SERVICE_NAME: 'kubelease',
    POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
    // lib/lambda/tracing.ts loads the tracer only when this is "true"; bundled at synth with it off, the tracer is left out
    POWERTOOLS_TRACE_ENABLED: String(props.tracing),
    KUBELEASE_ADMIN_PRINCIPALS: props.adminPrincipals.join(','),
    KUBELEASE_KMS_KEY_ID: key.keyArn,
    // every function builds all three stores (lib/lambda/runtime.ts), so all get all names
    [TABLE_ENV.config]: tables.config.tableName,
    [TABLE_ENV.roles]: tables.roles.tableName,
    [TABLE_ENV.leases]: tables.leases.tableName,
    ...(props.pendingGraceSeconds !== undefined ? { KUBELEASE_PENDING_GRACE_SECONDS: String(props.pendingGraceSeconds) } : {}),
    ...(props.orphanGraceSeconds !== undefined ? { KUBELEASE_ORPHAN_GRACE_SECONDS: String(props.orphanGraceSeconds) } : {}),
    ...(props.readCacheSeconds !== undefined ? { KUBELEASE_CACHE_SECONDS: String(props.readCacheSeconds) } : {}),
  };
  const functions = {} as BrokerFunctions;
  for (const fn of BROKER_FUNCTIONS) {
    const logGroup = new logs.LogGroup(scope, `${capitalize(fn)}Logs`, { retention: props.logRetention, removalPolicy: props.removalPolicy });
    logGroup.grantWrite(roles[fn]);
    const common: lambda.FunctionOptions = {
      description: `kubelease ${fn}`,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize[fn],
      timeout: TIMEOUTS[fn],
      role: roles[fn],
      logGroup,
      environment,
      ...(props.reservedConcurrency[fn] !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency[fn] } : {}),
      ...(props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      ...(props.vpc ? { vpc: props.vpc.vpc, vpcSubnets: props.vpc.subnets, securityGroups } : {}),
    };
    const id = `${capitalize(fn)}Function`;
    const prebuilt = props.functionsDir ? undefined : prebuiltBundle(fn);
    // bundled here, the tracer goes in only with tracing on; the prebuilt bundles carry it for both
    const code = prebuilt
      ? lambda.Code.fromAsset(prebuilt)
      : bundledCode(join(props.functionsDir ?? join(PACKAGE_ROOT, 'functions'), `${fn}.ts`), { tracer: props.tracing });
    functions[fn] = new lambda.Function(scope, id, { ...common, runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code });
  }
  // A scheduled sweep that fails is not retried by Lambda: the next run comes soon enough,
  // and retries would pile up behind a slow sweep (its reserved concurrency is 1).
  functions.sweep.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: maxEventAge(props.sweepSchedule) });
  return functions;
}

/** An event older than one schedule period is superseded by the next run (Lambda allows 60 s–6 h). */
function maxEventAge(schedule: Duration): Duration {
  return Duration.seconds(Math.min(6 * 3600, Math.max(60, schedule.toSeconds())));
}
