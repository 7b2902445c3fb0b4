/**
 * cdk.json / `-c key=value` context keys → KubeleaseStack props, for `npx cdk deploy` users.
 * Each construct prop has a key (docs/deploy.md lists them with their defaults); existing
 * resources are named by id or ARN. Values of the wrong shape fail here, naming the key;
 * ranges and formats are then checked once, by the construct (props.ts).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BROKER_FUNCTIONS, VPC_ENDPOINT_SERVICES, type BrokerFunction, type KubeleaseBrokerProps, type VpcEndpointService } from './props.js';
import type { KubeleaseStackProps } from './stack.js';

export type ContextReader = (key: string) => unknown;

/** Every context key this app reads. */
export const CONTEXT_KEYS = [
  'stackName',
  'adminPrincipals',
  'allowedAccounts',
  'stageName',
  'tracing',
  'removalPolicy',
  'webAclArn',
  'throttleRateLimit',
  'throttleBurstLimit',
  'logRetentionDays',
  'cloudWatchRole',
  'sweepScheduleMinutes',
  'memorySize',
  'reservedConcurrency',
  'domainName',
  'certificateArn',
  'domainBasePath',
  'hostedZoneId',
  'hostedZoneName',
  'disableExecuteApiEndpoint',
  'kmsKeyArn',
  'vpcId',
  'subnetIds',
  'securityGroupIds',
  'vpcEndpoints',
  'alarmTopicArn',
  'alarmApi5xxPerPeriod',
  'alarmApiLatencyP99Ms',
  'alarmIteratorAgeSeconds',
  'dashboard',
  'metricsNamespace',
  'pendingGraceSeconds',
  'orphanGraceSeconds',
  'readCacheSeconds',
  'sourceMaps',
  'assumableRoleArns',
  'executionRoles',
] as const;

export interface ContextStackProps extends Omit<KubeleaseStackProps, 'env'> {
  stackName: string;
}

const ARN = {
  kmsKeyArn: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
  certificateArn: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
  alarmTopicArn: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/,
};

/** Reads the app's context; throws one error listing every bad key. */
export function stackPropsFromContext(get: ContextReader): ContextStackProps {
  const errors: string[] = [];
  const bad = (key: string, what: string, v: unknown) => {
    errors.push(`-c ${key}: ${what}, got ${JSON.stringify(v)}`);
    return undefined;
  };
  const raw = (key: string): unknown => {
    const v = get(key);
    return v === null || v === '' ? undefined : v;
  };
  const str = (key: string, re?: RegExp, what = 'has the wrong format'): string | undefined => {
    const v = raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return bad(key, 'must be a string', v);
    return re && !re.test(v) ? bad(key, what, v) : v;
  };
  const list = (key: string): string[] | undefined => {
    const v = raw(key);
    if (v === undefined) return undefined;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    if (typeof v !== 'string') return bad(key, 'must be a comma-separated string or an array of strings', v);
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    return items.length > 0 ? items : undefined;
  };
  const bool = (key: string): boolean | undefined => {
    const v = raw(key);
    if (v === undefined || typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return bad(key, 'must be true or false', v);
  };
  const num = (key: string): number | undefined => {
    const v = raw(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) ? n : bad(key, 'must be a number', v);
  };
  /** `512`, `creds=1024,sweep=256`, or a JSON object `{"creds": 1024}`. */
  /** `every`: the functions one plain number applies to */
  const perFunction = (key: string, every: readonly BrokerFunction[] = BROKER_FUNCTIONS): Partial<Record<BrokerFunction, number>> | undefined => {
    let v = raw(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v.trim()))) {
      return Object.fromEntries(every.map((fn) => [fn, Number(v)]));
    }
    if (typeof v === 'string' && v.trim().startsWith('{')) {
      try {
        v = JSON.parse(v);
      } catch {
        return bad(key, 'is not valid JSON', v);
      }
    }
    const entries: [string, unknown][] =
      typeof v === 'string' ? v.split(',').map((pair) => pair.split('=').map((s) => s.trim()) as [string, string]) : typeof v === 'object' && v !== null ? Object.entries(v) : [];
    if (entries.length === 0) return bad(key, 'must be a number, fn=value pairs or a JSON object', v);
    const out: Partial<Record<BrokerFunction, number>> = {};
    for (const [fn, value] of entries) {
      const n = Number(value);
      if (!(BROKER_FUNCTIONS as readonly string[]).includes(fn)) return bad(key, `"${fn}" is not one of ${BROKER_FUNCTIONS.join(', ')}`, v);
      if (value === undefined || value === '' || !Number.isFinite(n)) return bad(key, `the value for ${fn} must be a number`, v);
      out[fn as BrokerFunction] = n;
    }
    return out;
  };

  const removal = str('removalPolicy');
  const removalPolicy =
    removal === undefined ? undefined : ({ retain: RemovalPolicy.RETAIN, destroy: RemovalPolicy.DESTROY } as Record<string, RemovalPolicy>)[removal.toLowerCase()];
  if (removal !== undefined && removalPolicy === undefined) bad('removalPolicy', 'must be retain or destroy', removal);
  const executionRoles = str('executionRoles', /^(shared|per-function)$/, 'must be "shared" or "per-function"') as KubeleaseBrokerProps['executionRoles'];
  const sweepMinutes = num('sweepScheduleMinutes');
  const rateLimit = num('throttleRateLimit');
  const burstLimit = num('throttleBurstLimit');
  const api5xxPerPeriod = num('alarmApi5xxPerPeriod');
  const apiLatencyP99Ms = num('alarmApiLatencyP99Ms');
  const iteratorAgeSeconds = num('alarmIteratorAgeSeconds');
  const endpoints = list('vpcEndpoints');
  const vpcEndpoints =
    endpoints && (endpoints.length === 1 && endpoints[0] === 'none' ? [] : (endpoints.map((e) => e.toLowerCase()) as VpcEndpointService[]));
  for (const e of vpcEndpoints ?? []) if (!VPC_ENDPOINT_SERVICES.includes(e)) bad('vpcEndpoints', `"${e}" is not one of ${VPC_ENDPOINT_SERVICES.join(', ')} (or "none")`, endpoints);
  // the sweeper's reserved concurrency is fixed at 1: a plain number sizes the others
  const reserved = perFunction('reservedConcurrency', BROKER_FUNCTIONS.filter((fn) => fn !== 'sweep'));

  const broker: ContextStackProps['broker'] = {
    adminPrincipals: list('adminPrincipals'),
    allowedAccounts: list('allowedAccounts'),
    stageName: str('stageName'),
    tracing: bool('tracing'),
    removalPolicy,
    webAclArn: str('webAclArn'),
    throttle: rateLimit !== undefined || burstLimit !== undefined ? { rateLimit, burstLimit } : undefined,
    logRetention: num('logRetentionDays'),
    cloudWatchRole: bool('cloudWatchRole'),
    sweepSchedule: sweepMinutes === undefined ? undefined : Duration.seconds(Math.round(sweepMinutes * 60)),
    memorySize: perFunction('memorySize'),
    reservedConcurrency: reserved,
    vpcEndpoints,
    alarmThresholds:
      api5xxPerPeriod !== undefined || apiLatencyP99Ms !== undefined || iteratorAgeSeconds !== undefined
        ? { api5xxPerPeriod, apiLatencyP99Ms, iteratorAgeSeconds }
        : undefined,
    dashboard: bool('dashboard'),
    metricsNamespace: str('metricsNamespace'),
    pendingGraceSeconds: num('pendingGraceSeconds'),
    orphanGraceSeconds: num('orphanGraceSeconds'),
    readCacheSeconds: num('readCacheSeconds'),
    sourceMaps: bool('sourceMaps'),
    assumableRoleArns: list('assumableRoleArns'),
    executionRoles,
  };
  const domainName = str('domainName');
  const certificateArn = str('certificateArn', ARN.certificateArn, 'must be an ACM certificate ARN');
  const hostedZoneId = str('hostedZoneId', /^Z[A-Z0-9]+$/, 'must be a Route 53 hosted zone id (Z...)');
  const hostedZoneName = str('hostedZoneName');
  const basePath = str('domainBasePath');
  const disableExecuteApiEndpoint = bool('disableExecuteApiEndpoint');
  if ((domainName === undefined) !== (certificateArn === undefined)) errors.push('-c domainName and -c certificateArn: give both or neither');
  if ((hostedZoneId === undefined) !== (hostedZoneName === undefined)) errors.push('-c hostedZoneId and -c hostedZoneName: give both or neither');
  if (!domainName) {
    for (const k of ['domainBasePath', 'hostedZoneId', 'disableExecuteApiEndpoint']) if (raw(k) !== undefined) errors.push(`-c ${k}: only applies with -c domainName`);
  }
  const vpcId = str('vpcId', /^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-...)');
  const subnetIds = list('subnetIds');
  const securityGroupIds = list('securityGroupIds');
  for (const s of subnetIds ?? []) if (!/^subnet-[0-9a-f]+$/.test(s)) bad('subnetIds', 'must be subnet ids (subnet-...)', subnetIds);
  for (const s of securityGroupIds ?? []) if (!/^sg-[0-9a-f]+$/.test(s)) bad('securityGroupIds', 'must be security group ids (sg-...)', securityGroupIds);
  if (!vpcId) {
    for (const k of ['subnetIds', 'securityGroupIds', 'vpcEndpoints']) if (raw(k) !== undefined) errors.push(`-c ${k}: only applies with -c vpcId`);
  }
  const kmsKeyArn = str('kmsKeyArn', ARN.kmsKeyArn, 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');
  const alarmTopicArn = str('alarmTopicArn', ARN.alarmTopicArn, 'must be an SNS topic ARN');
  const stackName = str('stackName', /^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a CloudFormation stack name') ?? 'Kubelease';

  if (errors.length > 0) throw new Error(`kubelease: invalid context values\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  return {
    stackName,
    broker: dropUndefined(broker),
    ...(alarmTopicArn ? { alarmTopicArn } : {}),
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    ...(domainName && certificateArn
      ? {
          domain: dropUndefined({
            domainName,
            certificateArn,
            basePath,
            disableExecuteApiEndpoint,
            hostedZone: hostedZoneId && hostedZoneName ? { hostedZoneId, zoneName: hostedZoneName } : undefined,
          }),
        }
      : {}),
    ...(vpcId ? { vpc: dropUndefined({ vpcId, subnetIds, securityGroupIds }) } : {}),
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
