/**
 * Every knob of the KubeleaseBroker construct: the typed props, their defaults, and the one
 * validation that turns bad values into a synth-time error naming each offending prop.
 * infra/context.ts maps the same knobs onto cdk.json / `-c` context keys.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as z from 'zod';
import { adminPrincipalProblem } from '../lib/domain/principals.js';
import type { FunctionName } from '../lib/http/routes.js';

/** Every Lambda entry under functions/. The HTTP ones are the route table's `fn` values. */
export type BrokerFunction = FunctionName | 'expire' | 'sweep';
export const BROKER_FUNCTIONS: readonly BrokerFunction[] = ['config', 'roles', 'creds', 'leases', 'expire', 'sweep'];

/** VPC endpoints the functions may need inside a VPC (see `vpcEndpoints`). */
export type VpcEndpointService = 'dynamodb' | 'kms' | 'sts' | 'eks';
export const VPC_ENDPOINT_SERVICES: readonly VpcEndpointService[] = ['dynamodb', 'kms', 'sts', 'eks'];

export interface BrokerDomainProps {
  /** e.g. `kubelease.example.com`: callers use `https://<domainName>/v1/...` (no stage prefix). */
  domainName: string;
  /** ACM certificate for `domainName`, in the stack's region (the API is REGIONAL). */
  certificate: acm.ICertificate;
  /** Mount the API under this path (`https://<domainName>/<basePath>/v1/...`). Default: the root. */
  basePath?: string;
  /** Creates an alias A record for `domainName` in this zone. Default: none (create the DNS record yourself). */
  hostedZone?: route53.IHostedZone;
  /** Turn off the default `execute-api` URL so every caller goes through `domainName`. Default false. */
  disableExecuteApiEndpoint?: boolean;
}

export interface BrokerAlarmThresholds {
  /** API Gateway 5XXError count per 5 minutes that counts as breaching (2 of 3 periods alarm). Default 0. */
  api5xxPerPeriod?: number;
  /** API Gateway p99 latency in ms (3 consecutive 5-minute periods). Default 5000. */
  apiLatencyP99Ms?: number;
  /** Age of the oldest unprocessed leases-stream record, in seconds. Default 600. */
  iteratorAgeSeconds?: number;
}

export interface KubeleaseBrokerProps {
  /** IAM principal ARNs or patterns (`arn:aws:iam::123456789012:role/platform-*`) that administer the broker. Required. */
  adminPrincipals: string[];
  /** Accounts whose principals may call the API (resource policy); others are denied. Default: this stack's account. */
  allowedAccounts?: string[];
  /** API Gateway stage name, the first path segment of every execute-api URL. Default "api". */
  stageName?: string;
  /** X-Ray on the stage and the functions, with Powertools Tracer around DynamoDB, KMS, STS and Kubernetes calls (bundled at synth only when on). Default false. */
  tracing?: boolean;
  /** Tables, KMS key and log groups: RETAIN (tables also get deletion protection) or DESTROY. Default RETAIN. */
  removalPolicy?: RemovalPolicy;
  /** Associate this WAFv2 web ACL (REGIONAL scope) with the stage. Default: none. */
  webAclArn?: string;
  /** Stage throttling. Defaults: 50 requests/s, burst 100. */
  throttle?: { rateLimit?: number; burstLimit?: number };
  /** Retention of the function and access log groups. Default ONE_MONTH. */
  logRetention?: logs.RetentionDays;
  /** Creates the account-level API Gateway → CloudWatch Logs role that access/execution logging needs. Default true. */
  cloudWatchRole?: boolean;
  /** How often the sweeper runs, in whole minutes (1 minute to 1 day). Default 5 minutes. */
  sweepSchedule?: Duration;
  /** Memory (MB, 128–10240) per function. Defaults: creds 1024, sweep 1024, the others 512. */
  memorySize?: Partial<Record<BrokerFunction, number>>;
  /**
   * Reserved concurrency per function (≥ 1). Default: none (account pool). The sweeper always
   * has exactly 1 (one sweep at a time) and is not configurable here.
   */
  reservedConcurrency?: Partial<Record<Exclude<BrokerFunction, 'sweep'>, number>>;
  /** A custom domain name (stable HTTPS name for CI pipelines). Default: none. */
  domain?: BrokerDomainProps;
  /** Seal `service_account_jwt` with this existing key instead of creating one (its key policy is yours: docs/deploy.md). */
  kmsKey?: kms.IKey;
  /** Run the functions in this VPC (private cluster endpoints). Default: no VPC. */
  vpc?: ec2.IVpc;
  /** Subnets for the functions. Default: the VPC's private subnets. Only with `vpc`. */
  vpcSubnets?: ec2.SubnetSelection;
  /** Security groups of the functions. Default: one created (egress 443 and 6443 only); its id is an output. Only with `vpc`. */
  securityGroups?: ec2.ISecurityGroup[];
  /**
   * VPC endpoints to create for the functions' subnets; leave out those your VPC already has
   * (with private DNS). Default `['dynamodb', 'kms', 'sts']`: the broker never calls the EKS API
   * (configs carry `kubernetes_host`), so `eks` is opt-in. Only with `vpc`.
   */
  vpcEndpoints?: VpcEndpointService[];
  /** Alarm (and OK) notifications go here when set. Default: none. */
  alarmTopic?: sns.ITopic;
  /** Alarm thresholds; see BrokerAlarmThresholds for the defaults. */
  alarmThresholds?: BrokerAlarmThresholds;
  /** Create the CloudWatch dashboard. Default true. */
  dashboard?: boolean;
  /** CloudWatch namespace of the broker's own metrics. Default `Kubelease/<stack name>` (one per deployment). */
  metricsNamespace?: string;
  /** Seconds after issue a lease whose objects are not all there (an issuance that died half-way) is left alone before the sweeper ends it. Default: the engine's (900). */
  pendingGraceSeconds?: number;
  /** Seconds a labeled object without a live lease is left alone by the sweeper. Default: the engine's (300). */
  orphanGraceSeconds?: number;
  /**
   * Seconds a warm function serves config and roles from memory (docs/deploy.md, "Propagation
   * delay"); 0 turns the cache off. Default 5.
   */
  readCacheSeconds?: number;
  /** `NODE_OPTIONS=--enable-source-maps` on every function: source-mapped stack traces, slower cold starts. Default false. */
  sourceMaps?: boolean;
  /**
   * Role ARNs (patterns allowed) that EKS configs may name as `role_arn` beyond the broker's own,
   * e.g. a role in another account that the target cluster maps. Default: none.
   */
  assumableRoleArns?: string[];
  /**
   * `shared` (default): one execution role for all six functions. It is the only IAM identity
   * the target clusters see, so admins map exactly one role in EKS and EKS configs need no
   * `role_arn`. Its permissions are the union of the functions' needs.
   *
   * `per-function`: each function gets its own least-privilege role, plus a permission-less
   * `ClusterAccessRole` that all of them may assume. Admins map that one role in EKS and set
   * it as `role_arn` in every EKS config (the broker then assumes it before signing the EKS token).
   */
  executionRoles?: 'shared' | 'per-function';
  /** Where the Lambda entries live (bundled with esbuild at synth). Default: the package's prebuilt bundles, else `<package>/functions`. */
  functionsDir?: string;
}

export const DEFAULT_MEMORY: Record<BrokerFunction, number> = {
  config: 512,
  roles: 512,
  // the latency path: cold start and TLS handshakes are CPU-bound, and Lambda's CPU share grows with memory
  creds: 1024,
  leases: 512,
  expire: 512,
  // reads every labeled object of every cluster in one run
  sweep: 1024,
};

export const DEFAULT_VPC_ENDPOINTS: readonly VpcEndpointService[] = ['dynamodb', 'kms', 'sts'];

export const DEFAULTS = {
  stageName: 'api',
  tracing: false,
  removalPolicy: RemovalPolicy.RETAIN,
  throttle: { rateLimit: 50, burstLimit: 100 },
  logRetention: logs.RetentionDays.ONE_MONTH,
  cloudWatchRole: true,
  sweepScheduleMinutes: 5,
  executionRoles: 'shared',
  dashboard: true,
  alarmThresholds: { api5xxPerPeriod: 0, apiLatencyP99Ms: 5000, iteratorAgeSeconds: 600 },
} as const;

/** Props after validation, with every default applied. */
export interface ResolvedBrokerProps
  extends Required<
    Pick<
      KubeleaseBrokerProps,
      'adminPrincipals' | 'stageName' | 'tracing' | 'removalPolicy' | 'logRetention' | 'cloudWatchRole' | 'sweepSchedule' | 'executionRoles' | 'dashboard' | 'metricsNamespace'
    >
  > {
  allowedAccounts: string[] | undefined;
  webAclArn: string | undefined;
  throttle: { rateLimit: number; burstLimit: number };
  memorySize: Record<BrokerFunction, number>;
  reservedConcurrency: Partial<Record<BrokerFunction, number>>;
  domain: BrokerDomainProps | undefined;
  kmsKey: kms.IKey | undefined;
  vpc: { vpc: ec2.IVpc; subnets: ec2.SubnetSelection | undefined; securityGroups: ec2.ISecurityGroup[] | undefined; endpoints: VpcEndpointService[] } | undefined;
  alarmTopic: sns.ITopic | undefined;
  alarmThresholds: Required<BrokerAlarmThresholds>;
  pendingGraceSeconds: number | undefined;
  orphanGraceSeconds: number | undefined;
  readCacheSeconds: number | undefined;
  sourceMaps: boolean;
  assumableRoleArns: string[];
  functionsDir: string | undefined;
}

const unresolved = (v: unknown): boolean => typeof v === 'string' && Token.isUnresolved(v);
/** A string matching `re`, or a CDK token (resolved at deploy time, checked by CloudFormation). */
const matching = (re: RegExp, message: string) => z.string().refine((v) => unresolved(v) || re.test(v), { message });

const ACCOUNT = /^\d{12}$/;
const PARTITION = 'aws(?:-cn|-us-gov|-iso[a-z-]*)?';
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:role/[\\w+=.,@/*?-]+$`);
const WEB_ACL_ARN = new RegExp(`^arn:${PARTITION}:wafv2:[a-z0-9-]+:\\d{12}:regional/webacl/[\\w-]+/[\\w-]+$`);
const STAGE = /^[A-Za-z0-9_-]{1,128}$/;
const DNS_NAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
const BASE_PATH = /^[A-Za-z0-9._~-]+$/;
const NAMESPACE = /^(?!AWS\/)[A-Za-z0-9._\-/#: ]{1,255}$/;
const RETENTION_DAYS = new Set(Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'));

const positiveInt = (what: string) => z.number().int(`${what} must be a whole number`).positive(`${what} must be positive`);
const isDuration = (v: unknown): v is Duration => typeof (v as Duration | undefined)?.toSeconds === 'function';
const isObject = (v: unknown) => typeof v === 'object' && v !== null;

const memory = z.number().int('must be a whole number of MB').min(128, 'must be at least 128 MB').max(10240, 'must be at most 10240 MB');
const concurrency = z.number().int('must be a whole number').min(1, 'must be at least 1 (0 would stop the function: leases would never end)');

const schema = z.object({
  adminPrincipals: z
    .array(
      z
        .string()
        .refine((v) => !v.includes(','), { message: 'must not contain a comma' })
        // the rule the functions apply at cold start (lib/lambda/runtime.ts), one domain function
        .superRefine((v, ctx) => {
          const problem = unresolved(v) ? undefined : adminPrincipalProblem(v);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
    )
    .min(1, 'must name at least one admin'),
  allowedAccounts: z.array(matching(ACCOUNT, 'must be a 12-digit AWS account id')).min(1, 'must not be empty (leave it out for this account only)').optional(),
  stageName: matching(STAGE, 'must be 1-128 letters, digits, "-" or "_"').optional(),
  tracing: z.boolean().optional(),
  removalPolicy: z.enum([RemovalPolicy.RETAIN, RemovalPolicy.DESTROY], { message: 'must be RETAIN or DESTROY' }).optional(),
  webAclArn: matching(WEB_ACL_ARN, 'must be a REGIONAL WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)').optional(),
  throttle: z
    .object({
      rateLimit: z.number().positive('must be a positive number of requests per second').optional(),
      burstLimit: positiveInt('burstLimit').optional(),
    })
    .optional(),
  logRetention: z.number().refine((v) => RETENTION_DAYS.has(v), { message: 'must be one of logs.RetentionDays (e.g. 7, 30, 365)' }).optional(),
  cloudWatchRole: z.boolean().optional(),
  sweepSchedule: z
    .custom<Duration>(isDuration, 'must be a Duration')
    .refine((d) => Number.isInteger(d.toSeconds() / 60) && d.toSeconds() >= 60 && d.toSeconds() <= 86400, {
      message: 'must be whole minutes between 1 minute and 1 day',
    })
    .optional(),
  memorySize: z.partialRecord(z.enum(['config', 'roles', 'creds', 'leases', 'expire', 'sweep']), memory).optional(),
  reservedConcurrency: z
    .strictObject(
      { config: concurrency, roles: concurrency, creds: concurrency, leases: concurrency, expire: concurrency },
      { error: 'only config, roles, creds, leases and expire: the sweeper always runs with reserved concurrency 1' },
    )
    .partial()
    .optional(),
  domain: z
    .object({
      domainName: matching(DNS_NAME, 'must be a lower-case DNS name such as kubelease.example.com'),
      certificate: z.custom<acm.ICertificate>((v) => isObject(v) && typeof (v as acm.ICertificate).certificateArn === 'string', 'must be an ACM certificate'),
      basePath: matching(BASE_PATH, 'must be one path segment of letters, digits, ".", "_", "~" or "-"').optional(),
      hostedZone: z.custom<route53.IHostedZone>((v) => isObject(v), 'must be a Route 53 hosted zone').optional(),
      disableExecuteApiEndpoint: z.boolean().optional(),
    })
    .optional(),
  kmsKey: z.custom<kms.IKey>((v) => isObject(v) && typeof (v as kms.IKey).keyArn === 'string', 'must be a KMS key').optional(),
  vpcEndpoints: z.array(z.enum(['dynamodb', 'kms', 'sts', 'eks'], { message: 'must be one of dynamodb, kms, sts, eks' })).optional(),
  alarmThresholds: z
    .object({
      api5xxPerPeriod: z.number().min(0, 'must be ≥ 0').optional(),
      apiLatencyP99Ms: z.number().positive('must be positive').optional(),
      iteratorAgeSeconds: z.number().positive('must be positive').optional(),
    })
    .optional(),
  dashboard: z.boolean().optional(),
  metricsNamespace: matching(NAMESPACE, 'must be a CloudWatch namespace (letters, digits, . _ - / # : space; not AWS/...)').optional(),
  pendingGraceSeconds: positiveInt('pendingGraceSeconds').optional(),
  orphanGraceSeconds: positiveInt('orphanGraceSeconds').optional(),
  readCacheSeconds: z.number().int('readCacheSeconds must be a whole number').min(0, 'readCacheSeconds must be ≥ 0').max(300, 'readCacheSeconds must be ≤ 300').optional(),
  sourceMaps: z.boolean().optional(),
  assumableRoleArns: z.array(matching(ROLE_ARN, 'must be an IAM role ARN (pattern), e.g. arn:aws:iam::123456789012:role/kubelease-*')).optional(),
  executionRoles: z.enum(['shared', 'per-function'], { message: 'must be "shared" or "per-function"' }).optional(),
  functionsDir: z.string().min(1).optional(),
});

/** Rules between props (zod checks each field; these need two). */
function crossChecks(props: KubeleaseBrokerProps, region: string): string[] {
  const errors: string[] = [];
  if (!props.vpc) {
    for (const k of ['vpcSubnets', 'securityGroups', 'vpcEndpoints'] as const) {
      if (props[k] !== undefined) errors.push(`${k}: only applies with vpc`);
    }
  }
  if (props.securityGroups && props.securityGroups.length === 0) errors.push('securityGroups: must not be empty (leave it out to get one created)');
  const certArn = props.domain?.certificate?.certificateArn;
  if (certArn && !unresolved(certArn) && !unresolved(region)) {
    const certRegion = certArn.split(':')[3];
    if (certRegion !== region) errors.push(`domain.certificate: must be in the stack's region ${region} (a REGIONAL API), not ${certRegion}`);
  }
  const t = props.throttle;
  if (t?.rateLimit !== undefined && t.burstLimit !== undefined && t.burstLimit < t.rateLimit) {
    errors.push(`throttle.burstLimit: must be at least rateLimit (${t.rateLimit})`);
  }
  return errors;
}

/** Validates every prop (all problems at once, each naming its prop) and applies the defaults. */
export function resolveBrokerProps(props: KubeleaseBrokerProps, where: { path: string; stackName: string; region: string }): ResolvedBrokerProps {
  const parsed = schema.safeParse(props);
  const errors = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(props)'}: ${i.message}`);
  errors.push(...crossChecks(props, where.region));
  if (errors.length > 0) {
    throw new Error(`KubeleaseBroker ${where.path}: invalid props\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  }
  const d = DEFAULTS;
  return {
    adminPrincipals: props.adminPrincipals,
    allowedAccounts: props.allowedAccounts,
    stageName: props.stageName ?? d.stageName,
    tracing: props.tracing ?? d.tracing,
    removalPolicy: props.removalPolicy ?? d.removalPolicy,
    webAclArn: props.webAclArn,
    throttle: { rateLimit: props.throttle?.rateLimit ?? d.throttle.rateLimit, burstLimit: props.throttle?.burstLimit ?? d.throttle.burstLimit },
    logRetention: props.logRetention ?? d.logRetention,
    cloudWatchRole: props.cloudWatchRole ?? d.cloudWatchRole,
    sweepSchedule: props.sweepSchedule ?? Duration.minutes(d.sweepScheduleMinutes),
    memorySize: { ...DEFAULT_MEMORY, ...props.memorySize },
    reservedConcurrency: { ...props.reservedConcurrency, sweep: 1 },
    domain: props.domain,
    kmsKey: props.kmsKey,
    vpc: props.vpc
      ? { vpc: props.vpc, subnets: props.vpcSubnets, securityGroups: props.securityGroups, endpoints: [...new Set(props.vpcEndpoints ?? DEFAULT_VPC_ENDPOINTS)] }
      : undefined,
    alarmTopic: props.alarmTopic,
    alarmThresholds: { ...d.alarmThresholds, ...props.alarmThresholds },
    dashboard: props.dashboard ?? d.dashboard,
    metricsNamespace: props.metricsNamespace ?? `Kubelease/${where.stackName}`,
    pendingGraceSeconds: props.pendingGraceSeconds,
    orphanGraceSeconds: props.orphanGraceSeconds,
    readCacheSeconds: props.readCacheSeconds,
    sourceMaps: props.sourceMaps ?? false,
    assumableRoleArns: props.assumableRoleArns ?? [],
    executionRoles: props.executionRoles ?? d.executionRoles,
    functionsDir: props.functionsDir,
  };
}
