/**
 * The broker as the Lambdas run it (the middy chains of lib/lambda over the DynamoDB stores and
 * the client-node cluster), with a FaultProxy in front of the bed's kube-apiserver and another in
 * front of DynamoDB Local. Private tables, one mount pointed at the kube proxy, one namespace.
 *
 *   const b = await startFaultyBroker();
 *   b.kube.plan([{ match: /POST .*\/serviceaccounts$/, fault: { kind: 'status', status: 503 } }]);
 *   const res = await b.call('POST', `/v1/${b.mount}/creds/gen`, { body: { kubernetes_namespace: b.namespace } });
 *   await b.cleanSweep();                // no faults, clock past every grace period
 *   expect(await b.violations()).toEqual(noViolations);
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyResult, DynamoDBRecord } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createTables, localTableNames } from '../../../lib/local/tables.js';
import type { TableNames } from '../../../lib/tables.js';
import type { EngineDeps } from '../../../lib/engine/deps.js';
import type { SweepReport } from '../../../lib/engine/sweep.js';
import { expireHandler } from '../../../lib/lambda/expire-handler.js';
import { httpHandler } from '../../../lib/lambda/http-handler.js';
import { depsFromEnv, setDeps, type LocalParts } from '../../../lib/lambda/runtime.js';
import { LocalSecretBox } from '../../../lib/local/secret-box.js';
import { sweepHandler } from '../../../lib/lambda/sweep-handler.js';
import type { FunctionName } from '../../../lib/http/routes.js';
import { matchRoute } from '../apigw.js';
import { restEvent } from '../apigw.js';
import { dynamoClient, loadBed, newNamespace, uniqueSuffix } from '../bed.js';
import { collector } from './collector.js';
import { FaultProxy } from './fault-proxy.js';
import { storedLeases, violations, type Violations } from './invariants.js';
import { dropWhenFileEnds } from './scratch-tables.js';
import { lambdaContext } from '../lambda-context.js';

export const ADMIN = 'arn:aws:iam::123456789012:role/platform-admin';
export const CI = 'arn:aws:sts::123456789012:assumed-role/ci-deployer/build-1';
export const CI_ROLE = 'arn:aws:iam::123456789012:role/ci-*';

export interface Reply {
  status: number;
  body: Record<string, unknown> & { errors?: string[]; data?: Record<string, unknown>; lease_id?: string };
  requestId: string;
  text: string;
}

export interface FaultyBrokerOptions {
  /** per kube request (client-node AbortSignal), default 700 ms (each stall costs one) */
  kubeTimeoutMs?: number;
  /** DynamoDB client settings, default: a 700 ms request timeout */
  dynamo?: LocalParts['dynamo'];
  /** extra roles to write, by name */
  roles?: Record<string, Record<string, unknown>>;
}

/** The roles every harness mount has: one per mode, 1 h tokens. */
export const harnessRoles = (namespace: string): Record<string, Record<string, unknown>> => ({
  gen: {
    allowed_kubernetes_namespaces: namespace,
    generated_role_rules: 'rules:\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["list"]\n',
    token_default_ttl: '1h',
    allowed_principals: CI_ROLE,
  },
  sa: { allowed_kubernetes_namespaces: namespace, service_account_name: 'default', token_default_ttl: '1h', allowed_principals: CI_ROLE },
  bind: {
    allowed_kubernetes_namespaces: namespace,
    kubernetes_role_name: 'view',
    kubernetes_role_type: 'ClusterRole',
    token_default_ttl: '1h',
    allowed_principals: CI_ROLE,
  },
});


const handlers = new Map<FunctionName, ReturnType<typeof httpHandler>>();
const handlerOf = (fn: FunctionName) => {
  let h = handlers.get(fn);
  if (!h) handlers.set(fn, (h = httpHandler(fn)));
  return h;
};
const expire = expireHandler;
const sweepLambda = sweepHandler;

export class FaultyBroker {
  constructor(
    readonly kube: FaultProxy,
    readonly ddb: FaultProxy,
    readonly deps: EngineDeps,
    readonly tables: TableNames,
    readonly mount: string,
    readonly namespace: string,
    /** the handlers' environment (tables, endpoint through the DynamoDB proxy, key file, admins) */
    readonly env: NodeJS.ProcessEnv,
    private readonly extraRoles: Record<string, Record<string, unknown>> = {},
  ) {}

  /** One API call through the Lambda's middy chain; error bodies are scanned, tokens remembered. */
  async call(method: string, path: string, opts: { arn?: string | null; body?: unknown; query?: Record<string, string> } = {}): Promise<Reply> {
    const match = matchRoute(path);
    if (!match) throw new Error(`no route for ${path}`);
    setDeps(this.deps);
    const event = restEvent({ method, path, arn: opts.arn === undefined ? ADMIN : opts.arn, ...(opts.body !== undefined ? { body: opts.body } : {}), ...(opts.query ? { query: opts.query } : {}) });
    const res = (await handlerOf(match.route.fn)(event, lambdaContext(match.route.fn))) as APIGatewayProxyResult;
    const text = res.body ?? '';
    const body = (text ? JSON.parse(text) : {}) as Reply['body'];
    if (res.statusCode >= 400) collector.errorBody(res.statusCode, text);
    const token = (body.data as { service_account_token?: unknown } | undefined)?.service_account_token;
    if (typeof token === 'string') collector.secret(token, 'an issued token');
    return { status: res.statusCode, body, requestId: event.requestContext.requestId, text };
  }

  creds(role: string, body: Record<string, unknown> = {}): Promise<Reply> {
    return this.call('POST', `/v1/${this.mount}/creds/${role}`, { arn: CI, body: { kubernetes_namespace: this.namespace, ...body } });
  }

  revoke(leaseId: string, arn: string = CI): Promise<Reply> {
    return this.call('PUT', '/v1/sys/leases/revoke', { arn, body: { lease_id: leaseId } });
  }

  /** The stream consumer's view of a lease item removed by TTL (its OLD_IMAGE). */
  async ttlRecord(leaseId: string, sequence = String(Date.now())): Promise<DynamoDBRecord> {
    const image = await this.rawLease(leaseId);
    if (!image) throw new Error(`lease ${leaseId} is not stored`);
    return {
      eventID: sequence,
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      dynamodb: { Keys: { lease_id: { S: leaseId } }, OldImage: image as never, SequenceNumber: sequence, StreamViewType: 'OLD_IMAGE' },
    };
  }

  async rawLease(leaseId: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await dynamoClient().send(new GetItemCommand({ TableName: this.tables.leases, Key: { lease_id: { S: leaseId } }, ConsistentRead: true }));
    return out.Item;
  }

  /** The expire Lambda (middy chain) with these records. */
  async expire(records: DynamoDBRecord[]) {
    setDeps(this.deps);
    return expire({ Records: records }, lambdaContext('expire'));
  }

  /** The sweep Lambda with the clock moved `shiftSeconds` ahead (past pending and orphan grace). */
  async sweep(shiftSeconds = 0): Promise<SweepReport> {
    const shifted: EngineDeps = { ...this.deps, clock: { now: () => new Date(Date.now() + shiftSeconds * 1000) } };
    setDeps(shifted);
    try {
      return (await sweepLambda({} as never, lambdaContext('sweep'))) as SweepReport;
    } finally {
      setDeps(this.deps);
    }
  }

  /**
   * One sweep with no faults, its clock past the pending grace (900 s) and the orphan grace
   * (300 s) but short of the harness tokens' 1 h: what a sweeper does to anything left behind.
   */
  async cleanSweep(): Promise<SweepReport> {
    this.kube.plan([]);
    this.ddb.plan([]);
    return this.sweep(1000);
  }

  violations(): Promise<Violations> {
    return violations(this.tables.leases, this.mount);
  }

  storedLeases() {
    return storedLeases(this.tables.leases, this.mount);
  }

  /** Writes the mount's config (kube proxy, bed CA, broker JWT) and its roles: at start, and again after a test deleted them. */
  async configureMount(extraRoles: Record<string, Record<string, unknown>> = this.extraRoles): Promise<void> {
    const bed = loadBed();
    const cfg = await this.call('POST', `/v1/${this.mount}/config`, {
      body: { kubernetes_host: this.kube.url, kubernetes_ca_cert: bed.apiserver.caPem, service_account_jwt: bed.broker.token },
    });
    if (cfg.status !== 204) throw new Error(`config: ${cfg.status} ${cfg.text}`);
    for (const [name, body] of Object.entries({ ...harnessRoles(this.namespace), ...extraRoles })) {
      const res = await this.call('POST', `/v1/${this.mount}/roles/${name}`, { body });
      if (res.status !== 204) throw new Error(`role ${name}: ${res.status} ${res.text}`);
    }
  }

  async close(): Promise<void> {
    setDeps(undefined);
    await Promise.all([this.kube.close(), this.ddb.close()]);
  }
}

/**
 * The envelope key of a broker's environment (KUBELEASE_LOCAL_KEY_FILE is this harness's own
 * variable, as in the local stack): what a cold container of the same deployment opens JWTs with.
 */
export function localKeyBox(env: NodeJS.ProcessEnv): LocalSecretBox {
  return LocalSecretBox.fromFileOrCreate(env.KUBELEASE_LOCAL_KEY_FILE!);
}

export async function startFaultyBroker(options: FaultyBrokerOptions = {}): Promise<FaultyBroker> {
  const bed = loadBed();
  const suffix = uniqueSuffix();
  const tables = localTableNames(`kl-rel-${suffix}`);
  dropWhenFileEnds(tables);
  await createTables(dynamoClient(), tables);
  const pki = path.join(bed.dir, 'pki');
  const kube = await FaultProxy.start({
    target: bed.apiserver.url,
    flavor: 'kubernetes',
    tls: { cert: readFileSync(path.join(pki, 'apiserver.crt'), 'utf8'), key: readFileSync(path.join(pki, 'apiserver.key'), 'utf8') },
    upstreamCa: bed.apiserver.caPem,
  });
  const ddb = await FaultProxy.start({ target: bed.dynamodb.endpoint, flavor: 'dynamodb' });
  Object.assign(process.env, {
    AWS_REGION: bed.dynamodb.region,
    AWS_ACCESS_KEY_ID: bed.dynamodb.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: bed.dynamodb.credentials.secretAccessKey,
  });
  delete process.env.AWS_SESSION_TOKEN;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBELEASE_CONFIG_TABLE: tables.config,
    KUBELEASE_ROLES_TABLE: tables.roles,
    KUBELEASE_LEASES_TABLE: tables.leases,
    KUBELEASE_DYNAMODB_ENDPOINT: ddb.url,
    KUBELEASE_LOCAL_KEY_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'kl-rel-key-')), 'key'),
    KUBELEASE_ADMIN_PRINCIPALS: ADMIN,
    // every read reaches the proxies: a fault planned at a call position meets that call on every run
    KUBELEASE_CACHE_SECONDS: '0',
  };
  const deps = depsFromEnv(env, undefined, {
    secretBox: localKeyBox(env),
    dynamo: options.dynamo ?? { requestHandler: { requestTimeout: 700, throwOnRequestTimeout: true } },
    kube: { timeoutMs: options.kubeTimeoutMs ?? 700 },
  });
  setDeps(deps);
  const namespace = await newNamespace('kl-rel');
  const mount = `rel-${suffix}`;
  const broker = new FaultyBroker(kube, ddb, deps, tables, mount, namespace, env, options.roles);
  await broker.configureMount();
  return broker;
}
