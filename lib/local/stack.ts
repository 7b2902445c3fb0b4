/**
 * The local stack (`npm start`, e2e tests): the real test bed's kube-apiserver as the target
 * cluster, DynamoDB Local with the three tables, the same handlers the Lambdas run behind a
 * SigV4-checking HTTP server, a stream poller feeding the expire handler and a sweep timer.
 *
 * Two mounts reach the bed's apiserver: `local` with the broker ServiceAccount's JWT, and
 * `local-eks` through the EKS path (presigned STS token checked by the bed's EKS authenticator),
 * configured like a real EKS mount. The handlers get AWS credentials and the STS endpoint as in
 * Lambda, from the environment: the bed's session of the broker's execution role, and
 * AWS_ENDPOINT_URL_STS pointing at the bed's STS.
 *
 * Persistence: config, roles and leases live in DynamoDB Local (persistent for npm start). The
 * apiserver may come back at another URL, with another CA or broker token, so both mounts are
 * re-pointed at the current bed on every start; demo roles are written only when a mount is
 * first created.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { createTables, localTableNames } from './tables.js';
import { TABLE_ENV, type TableKey, type TableNames } from '../tables.js';
import type { EngineDeps } from '../engine/deps.js';
import { mergeConfig } from '../domain/index.js';
import { ensureInstallation, writeRole } from '../engine/index.js';
import type { SweepReport } from '../engine/sweep.js';
import { handleExpire } from '../lambda/expire-handler.js';
import { handleHttp } from '../lambda/http-handler.js';
import { logger } from '../lambda/observability.js';
import { depsFromEnv, setDeps } from '../lambda/runtime.js';
import { LocalSecretBox } from './secret-box.js';
import { handleSweep } from '../lambda/sweep-handler.js';
import { ADMIN_USER_ARN, CI_ROLE_ARN, dataDir, loadOrCreateCredentials, type LoadedCredentials } from './credentials.js';
import { CRASH_ENV, withCrashPoints } from './crash-points.js';
import { DEFAULT_PORT, startLocalServer, type LocalServer } from './server.js';
import { StreamPoller } from './stream-poller.js';
import { BROKER_NAMESPACE, BROKER_SERVICE_ACCOUNT, ISSUER, ensureKubeBinaries, startTestBed, type TestBed, type TestBedInfo } from './testbed/index.js';

export const LOCAL_MOUNT = 'local';
export const LOCAL_EKS_MOUNT = 'local-eks';

/** Each call is one invocation, as injectLambdaContext({resetKeys: true}) makes it in Lambda: no log keys carry over. */
const asInvocation =
  <A extends unknown[], R>(handler: (...args: A) => R) =>
  (...args: A): R => {
    logger.resetKeys();
    return handler(...args);
  };
export const DEFAULT_SWEEP_SECONDS = 60;
/** the broker token is re-requested this often (the bed's token lives 12 h) */
const BROKER_TOKEN_TTL_SECONDS = 12 * 3600;
const BROKER_REFRESH_MS = 6 * 3600 * 1000;

export interface LocalStackOptions {
  /** environment to read KUBELEASE_* settings from; default process.env */
  env?: NodeJS.ProcessEnv;
  /** an already running bed (e2e tests): reused, never stopped. Default: start a persistent one */
  bed?: TestBedInfo;
  /** table name prefix, default `kubelease` */
  tablePrefix?: string;
  /** mount pointed at the bed, default `local` (tests use a unique one: the sweeper only looks at its own mount's objects) */
  mount?: string;
  /** mount reaching the bed through the EKS path, default `local-eks` */
  eksMount?: string;
  /** default KUBELEASE_PORT or 8200; 0 = any free port */
  port?: number;
  /** default KUBELEASE_SWEEP_SECONDS or 60; 0 disables the timer */
  sweepSeconds?: number;
  pollIntervalMs?: number;
  log?: (line: string) => void;
  /** one line per HTTP request; default: log */
  requestLog?: (line: string) => void;
}

export interface LocalStack {
  url: string;
  port: number;
  mount: string;
  eksMount: string;
  credentials: LoadedCredentials;
  tables: TableNames;
  bed: TestBedInfo;
  /** true on the first start against these tables (demo roles were written) */
  firstStart: boolean;
  deps: EngineDeps;
  poller: StreamPoller;
  server: LocalServer;
  /** environment the handlers were configured from */
  env: NodeJS.ProcessEnv;
  sweepNow(): Promise<SweepReport>;
  stop(): Promise<void>;
}

export const DEMO_ROLES: Record<string, Record<string, unknown>> = {
  'demo-existing-sa': {
    service_account_name: 'default',
    allowed_kubernetes_namespaces: ['default'],
    allowed_principals: [CI_ROLE_ARN],
    token_default_ttl: '1h',
    token_max_ttl: '4h',
  },
  'demo-bind-role': {
    kubernetes_role_name: 'kubelease-demo-view',
    kubernetes_role_type: 'ClusterRole',
    allowed_kubernetes_namespaces: ['default'],
    allowed_principals: [CI_ROLE_ARN],
    token_default_ttl: '1h',
    token_max_ttl: '4h',
  },
  'demo-generated': {
    generated_role_rules: JSON.stringify({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }] }),
    allowed_kubernetes_namespaces: ['default'],
    allowed_principals: [CI_ROLE_ARN],
    token_default_ttl: '1h',
    token_max_ttl: '4h',
  },
};

/**
 * The ClusterRole demo-bind-role binds: what `view` would give for pods, services, configmaps
 * and deployments, exactly, rather than the bootstrap `view`, whose rules are whatever the
 * clusterrole-aggregation controller gathers into it.
 */
export const DEMO_CLUSTER_ROLE: k8s.V1ClusterRole = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'kubelease-demo-view', labels: { 'app.kubernetes.io/name': 'kubelease-demo' } },
  rules: [
    { apiGroups: [''], resources: ['pods', 'pods/log', 'services', 'configmaps', 'events', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: ['get', 'list', 'watch'] },
  ],
};

const int = (v: string | undefined): number | undefined => {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
};

function adminKubeConfig(bed: TestBedInfo): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'bed', server: bed.apiserver.url, caData: Buffer.from(bed.apiserver.caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'admin', certData: Buffer.from(bed.admin.clientCertPem).toString('base64'), keyData: Buffer.from(bed.admin.clientKeyPem).toString('base64') }],
    contexts: [{ name: 'admin', cluster: 'bed', user: 'admin' }],
    currentContext: 'admin',
  });
  return kc;
}

async function ensureDemoClusterRole(bed: TestBedInfo): Promise<void> {
  const rbac = adminKubeConfig(bed).makeApiClient(k8s.RbacAuthorizationV1Api);
  try {
    await rbac.createClusterRole({ body: DEMO_CLUSTER_ROLE });
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
  }
}

async function requestBrokerToken(bed: TestBedInfo): Promise<string> {
  const core = adminKubeConfig(bed).makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    name: bed.broker.serviceAccount || BROKER_SERVICE_ACCOUNT,
    namespace: bed.broker.namespace || BROKER_NAMESPACE,
    body: { spec: { audiences: [ISSUER], expirationSeconds: BROKER_TOKEN_TTL_SECONDS } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error('TokenRequest for the broker returned no token');
  return token;
}

/** What the stack started, stopped in reverse order; a failing step is logged, the rest still run. */
class Cleanups {
  private readonly steps: (() => Promise<void> | void)[] = [];
  constructor(private readonly log: (line: string) => void) {}
  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const c of this.steps.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        this.log(`shutdown: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

interface StepContext {
  options: LocalStackOptions;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  cleanups: Cleanups;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const cleanups = new Cleanups(log);
  const step: StepContext = { options, env, log, cleanups };
  try {
    const credentials = loadOrCreateCredentials(env);
    log(credentials.created ? `created local credentials in ${credentials.path}` : `local credentials: ${credentials.path}`);
    const { bed, owned } = await startOrReuseBed(step);
    const tables = localTableNames(options.tablePrefix ?? 'kubelease');
    const handlerEnv = handlerEnvironment(env, bed, tables);
    const deps = await startHandlers(step, bed, tables, handlerEnv);
    const mount = options.mount ?? LOCAL_MOUNT;
    const eksMount = options.eksMount ?? LOCAL_EKS_MOUNT;
    const firstStart = await pointMountsAtBed(step, deps, bed, owned, mount, eksMount);
    const poller = await startExpirePoller(step, bed, tables);
    const sweepNow = startSweepTimer(step);
    const server = await startApi(step, credentials);
    let stopping: Promise<void> | undefined;
    return {
      url: server.url,
      port: server.port,
      mount,
      eksMount,
      credentials,
      tables,
      bed,
      firstStart,
      deps,
      poller,
      server,
      env: handlerEnv,
      sweepNow,
      stop: () => (stopping ??= cleanups.run()),
    };
  } catch (e) {
    await cleanups.run();
    throw e;
  }
}

/** 1. The bed: the one given (never stopped here), or a persistent one of our own. */
async function startOrReuseBed({ options, env, log, cleanups }: StepContext): Promise<{ bed: TestBedInfo; owned: boolean }> {
  if (options.bed) return { bed: options.bed, owned: false };
  const dir = path.join(dataDir(env), 'bed');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  log('checking kube-apiserver/kube-controller-manager build (the first run installs the Debian packages of the bed and builds them from source: 10-17 min)');
  const binDir = await ensureKubeBinaries((l) => log(`  ${l}`));
  log(`starting etcd, kube-apiserver, kube-controller-manager and DynamoDB Local (data in ${dir})`);
  const owned: TestBed = await startTestBed({ dataDir: dir, persist: true, kubeBinDir: binDir, log: (l) => log(`  ${l}`) });
  cleanups.push(() => owned.stop());
  return { bed: owned.info(), owned: true };
}

/**
 * 2. The handlers' environment: DynamoDB Local, table names, admins. The handlers take region,
 * credentials and endpoints from the process environment, as in Lambda: the bed's session of the
 * broker's execution role (DynamoDB Local accepts any key; the EKS path signs with it) and the
 * bed's STS. A developer's real AWS keys are never used.
 */
function handlerEnvironment(env: NodeJS.ProcessEnv, bed: TestBedInfo, tables: TableNames): NodeJS.ProcessEnv {
  const handlerEnv: NodeJS.ProcessEnv = {
    ...env,
    ...Object.fromEntries((Object.keys(TABLE_ENV) as TableKey[]).map((k) => [TABLE_ENV[k], tables[k]])),
    KUBELEASE_DYNAMODB_ENDPOINT: bed.dynamodb.endpoint,
    KUBELEASE_ADMIN_PRINCIPALS: env.KUBELEASE_ADMIN_PRINCIPALS || ADMIN_USER_ARN,
  };
  delete handlerEnv.KUBELEASE_KMS_KEY_ID;
  process.env.AWS_REGION = bed.dynamodb.region;
  process.env.AWS_ACCESS_KEY_ID = bed.eks.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = bed.eks.credentials.secretAccessKey;
  process.env.AWS_SESSION_TOKEN = bed.eks.credentials.sessionToken;
  process.env.AWS_ENDPOINT_URL_STS = bed.eks.stsEndpoint;
  delete process.env.AWS_PROFILE;
  for (const [k, v] of Object.entries(handlerEnv)) if (k.startsWith('KUBELEASE_') && v !== undefined) process.env[k] = v;
  return handlerEnv;
}

/** The tables, and the handlers' dependencies with the local envelope key in place of KMS. */
async function startHandlers({ env, log, cleanups }: StepContext, bed: TestBedInfo, tables: TableNames, handlerEnv: NodeJS.ProcessEnv): Promise<EngineDeps> {
  const client = createDocumentClient({ endpoint: bed.dynamodb.endpoint, region: bed.dynamodb.region, credentials: bed.dynamodb.credentials });
  cleanups.push(() => client.destroy());
  await createTables(client, tables);
  log(`tables ready: ${tables.config}, ${tables.roles}, ${tables.leases}`);
  const keyFile = path.join(dataDir(env), 'local-envelope.key');
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  // KUBELEASE_CRASH_AFTER: the reliability suite's crash points (lib/local/crash-points.ts)
  const deps = withCrashPoints(depsFromEnv(handlerEnv, undefined, { secretBox: LocalSecretBox.fromFileOrCreate(keyFile) }), env[CRASH_ENV]);
  setDeps(deps);
  cleanups.push(() => setDeps(undefined));
  return deps;
}

/**
 * 3. The `local` (JWT) and `local-eks` (EKS) mounts, re-pointed at this bed, demo roles on first
 * start, and the broker token renewed while the stack runs. Returns whether this was the first start.
 */
async function pointMountsAtBed({ log, cleanups }: StepContext, deps: EngineDeps, bed: TestBedInfo, owned: boolean, mount: string, eksMount: string): Promise<boolean> {
  const admin = { arn: ADMIN_USER_ARN };
  const firstStart = (await deps.configs.get(mount)) === undefined;
  const brokerToken = owned ? bed.broker.token : await requestBrokerToken(bed).catch(() => bed.broker.token);
  const target = { kubernetes_host: bed.apiserver.url, kubernetes_ca_cert: bed.apiserver.caPem };
  // Not writeConfig: that refuses a new kubernetes_host while leases live (another cluster),
  // but here it is the same persisted cluster (same etcd) that came back on another port.
  const pointMount = async (name: string, auth: Record<string, string>) => {
    const existing = await deps.configs.get(name);
    await deps.configs.put(mergeConfig(name, existing, { ...target, ...auth }));
    return existing === undefined;
  };
  await ensureDemoClusterRole(bed).catch((e: unknown) => {
    if (firstStart) throw e;
    log(`could not ensure ClusterRole kubelease-demo-view: ${String(e)}`);
  });
  // as writeConfig does: the deployment's installation id, which labels every object it creates
  await ensureInstallation(deps);
  const auths: Record<string, Record<string, string>> = {
    [mount]: { service_account_jwt: brokerToken },
    [eksMount]: { eks_cluster_name: bed.eks.clusterName, eks_region: bed.eks.region },
  };
  for (const [name, auth] of Object.entries(auths)) {
    if (await pointMount(name, auth)) {
      for (const [role, body] of Object.entries(DEMO_ROLES)) await writeRole(deps, { mount: name, name: role, caller: admin, body });
      log(`mount "${name}" configured with demo roles ${Object.keys(DEMO_ROLES).join(', ')}`);
    } else {
      log(`mount "${name}" re-pointed at ${bed.apiserver.url} (roles and leases kept)`);
    }
  }
  // the broker token lives 12 h: renew it well before, for long-running npm start sessions
  const refresh = setInterval(() => {
    requestBrokerToken(bed)
      .then((jwt) => pointMount(mount, { service_account_jwt: jwt }))
      .then(() => log(`renewed the broker token of mount "${mount}"`))
      .catch((e: unknown) => log(`could not renew the broker token: ${e instanceof Error ? e.message : String(e)}`));
  }, BROKER_REFRESH_MS);
  refresh.unref();
  cleanups.push(() => clearInterval(refresh));
  return firstStart;
}

/** 4. Stream → expire, as the event source mapping would. */
async function startExpirePoller({ options, log, cleanups }: StepContext, bed: TestBedInfo, tables: TableNames): Promise<StreamPoller> {
  const poller = new StreamPoller({
    endpoint: bed.dynamodb.endpoint,
    region: bed.dynamodb.region,
    credentials: bed.dynamodb.credentials,
    tableName: tables.leases,
    handler: asInvocation(handleExpire),
    intervalMs: options.pollIntervalMs ?? 1000,
    log,
  });
  await poller.start();
  cleanups.push(() => poller.stop());
  return poller;
}

/** 5. The sweep, one run at a time: on a timer (unless 0) with a catch-up run 2 s after start, and on demand. */
function startSweepTimer({ options, env, log, cleanups }: StepContext): () => Promise<SweepReport> {
  let sweeping: Promise<SweepReport> | undefined;
  const sweepNow = () =>
    (sweeping ??= asInvocation(handleSweep)({ getRemainingTimeInMillis: () => 5 * 60_000 }).finally(() => {
      sweeping = undefined;
    }));
  const sweepSeconds = options.sweepSeconds ?? int(env.KUBELEASE_SWEEP_SECONDS) ?? DEFAULT_SWEEP_SECONDS;
  if (sweepSeconds <= 0) return sweepNow;
  const report = (r: SweepReport) => {
    if (r.expiredLeases || r.orphansRemoved || r.failures.length) {
      log(`sweep: ${r.expiredLeases} expired lease(s), ${r.orphansRemoved} orphan(s) removed${r.failures.length ? `, ${r.failures.length} failure(s): ${r.failures.slice(0, 3).join('; ')}` : ''}`);
    }
  };
  const tick = () => void sweepNow().then(report, (e: unknown) => log(`sweep failed: ${e instanceof Error ? e.message : String(e)}`));
  const timer = setInterval(tick, sweepSeconds * 1000);
  timer.unref();
  // catch up with what expired while the stack was down
  const first = setTimeout(tick, 2000);
  first.unref();
  cleanups.push(async () => {
    clearInterval(timer);
    clearTimeout(first);
    await sweeping?.catch(() => {});
  });
  return sweepNow;
}

/** 6. The API: the SigV4-checking server in front of the Lambdas' handler. */
async function startApi({ options, env, log, cleanups }: StepContext, credentials: LoadedCredentials): Promise<LocalServer> {
  const server = await startLocalServer({
    credentials: credentials.credentials,
    port: options.port ?? int(env.KUBELEASE_PORT) ?? DEFAULT_PORT,
    log: options.requestLog ?? log,
    invoke: asInvocation(handleHttp),
  });
  cleanups.push(() => server.close());
  return server;
}
