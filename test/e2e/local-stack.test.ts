/**
 * The local stack end to end, over real HTTP with real SigV4 signatures, against the test bed
 * of this `npm test` run (its kube-apiserver and DynamoDB Local; no second bed): config, roles,
 * creds in all three modes with the tokens used on the apiserver, leases, expiry through
 * DynamoDB TTL → stream → expire handler, the sweeper, refusals, a restart, and curl; the
 * second mount that reaches the same apiserver through the EKS path, and the printed examples.
 * Each run uses its own tables, mount and KUBELEASE_HOME.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import * as k8s from '@kubernetes/client-node';
import { logger } from '../../lib/lambda/observability.js';
import { principal, type LocalPrincipal } from '../../lib/local/credentials.js';
import { startLocalStack, type LocalStack } from '../../lib/local/stack.js';
import { usage } from '../../lib/local/usage.js';
import { signedHeaders } from '../support/signed-fetch.js';
import { adminKubeConfig, dynamoClient, eventually, loadBed, statusOf, tokenKubeConfig, uniqueSuffix } from '../support/bed.js';

const T = 120_000;

const bed = loadBed();
const suffix = uniqueSuffix();
const home = mkdtempSync(path.join(os.tmpdir(), 'kubelease-e2e-home-'));
const env: NodeJS.ProcessEnv = { ...process.env, KUBELEASE_HOME: home };
const prefix = `e2e-${suffix}`;
const mount = `e2e-${suffix}`;
const eksMount = `e2e-eks-${suffix}`;
const adminCore = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
const ddb = dynamoClient();

let stack: LocalStack;
let admin: LocalPrincipal;
let ci: LocalPrincipal;

const start = () => startLocalStack({ env, bed, tablePrefix: prefix, mount, eksMount, port: 0, sweepSeconds: 0, pollIntervalMs: 500 });

beforeAll(async () => {
  logger.setLogLevel('ERROR'); // the handlers' audit lines would drown the test output
  stack = await start();
  admin = principal(stack.credentials.credentials, 'admin');
  ci = principal(stack.credentials.credentials, 'ci');
}, T);

afterAll(async () => {
  await stack?.stop();
  ddb.destroy();
  rmSync(home, { recursive: true, force: true });
}, T);

interface Res {
  status: number;
  body: Record<string, unknown> & { data?: Record<string, unknown>; errors?: string[]; lease_id?: string; lease_duration?: number };
}

/** Signs like an AWS SDK client would (header SigV4, execute-api) and sends over HTTP. */
async function call(p: LocalPrincipal | undefined, method: string, pathAndQuery: string, body?: unknown, signingDate?: Date): Promise<Res> {
  const url = new URL(stack.url + pathAndQuery);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const sendHeaders = await signedHeaders(p, { method, url, region: 'eu-central-1', ...(text !== undefined ? { body: text } : {}), ...(signingDate ? { signingDate } : {}) });
  const res = await fetch(url, { method, headers: sendHeaders, ...(text !== undefined ? { body: text } : {}) });
  const raw = await res.text();
  return { status: res.status, body: raw ? (JSON.parse(raw) as Res['body']) : {} };
}

const leaseItem = async (leaseId: string) =>
  (await ddb.send(new GetItemCommand({ TableName: stack.tables.leases, Key: { lease_id: { S: leaseId } }, ConsistentRead: true }))).Item;

async function saStatus(name: string, namespace = 'default'): Promise<number> {
  try {
    await adminCore.readNamespacedServiceAccount({ name, namespace });
    return 200;
  } catch (e) {
    return statusOf(e) ?? 0;
  }
}

async function listPodsAs(token: string): Promise<number> {
  try {
    await tokenKubeConfig(token).makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'default' });
    return 200;
  } catch (e) {
    return statusOf(e) ?? 0;
  }
}

describe('local stack', () => {
  test('first start: credentials file 0600 in KUBELEASE_HOME, mount pointed at the bed, demo roles', async () => {
    expect(stack.firstStart).toBe(true);
    expect(stack.credentials.path).toBe(path.join(home, 'local-credentials.json'));
    expect(statSync(stack.credentials.path).mode & 0o777).toBe(0o600);
    expect(admin.arn).toBe('arn:aws:iam::000000000000:user/kubelease-admin');
    expect(ci.arn).toBe('arn:aws:sts::000000000000:assumed-role/kubelease-ci/local');

    const config = await call(admin, 'GET', `/v1/${mount}/config`);
    expect(config.status).toBe(200);
    expect(config.body.data).toMatchObject({ kubernetes_host: bed.apiserver.url });
    expect(JSON.stringify(config.body)).not.toContain('service_account_jwt":"ey');
    const mounts = await call(admin, 'GET', '/v1/mounts?list=true');
    expect(mounts.body.data?.keys).toContain(mount);
    const roles = await call(admin, 'GET', `/v1/${mount}/roles?list=true`);
    expect(roles.body.data?.keys).toEqual(['demo-bind-role', 'demo-existing-sa', 'demo-generated']);
  }, T);

  test('refusals: unsigned, wrong secret, expired signature, ci on admin paths', async () => {
    const unsigned = await call(undefined, 'GET', `/v1/${mount}/roles?list=true`);
    expect(unsigned).toEqual({ status: 403, body: { errors: ['Missing Authentication Token'] } });
    const wrong = await call({ ...admin, secret_access_key: 'wrong' }, 'GET', `/v1/${mount}/roles?list=true`);
    expect(wrong.status).toBe(403);
    expect(wrong.body.errors?.[0]).toMatch(/^The request signature we calculated does not match/);
    const stale = await call(admin, 'GET', `/v1/${mount}/roles?list=true`, undefined, new Date(Date.now() - 10 * 60_000));
    expect(stale.status).toBe(403);
    expect(stale.body.errors?.[0]).toMatch(/^Signature expired/);
    for (const [method, p, body] of [
      ['GET', `/v1/${mount}/config`, undefined],
      ['POST', `/v1/${mount}/config`, { kubernetes_host: 'https://example.invalid' }],
      ['GET', '/v1/mounts?list=true', undefined],
      ['POST', `/v1/${mount}/roles/ci-made`, { service_account_name: 'default', allowed_kubernetes_namespaces: ['default'] }],
      ['DELETE', `/v1/${mount}/roles/demo-generated`, undefined],
    ] as const) {
      const res = await call(ci, method, p, body);
      expect([method, p, res.status]).toEqual([method, p, 403]);
      expect(res.body.errors?.[0]).toContain('is not an admin principal');
    }
  }, T);

  test('roles: write, read, list, delete', async () => {
    const name = 'e2e-pods-reader';
    const body = {
      generated_role_rules: JSON.stringify({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] }),
      allowed_kubernetes_namespaces: 'default',
      allowed_principals: ['arn:aws:iam::000000000000:role/kubelease-*'],
    };
    expect((await call(admin, 'POST', `/v1/${mount}/roles/${name}`, body)).status).toBe(204);
    const read = await call(admin, 'GET', `/v1/${mount}/roles/${name}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ allowed_kubernetes_namespaces: ['default'], allowed_principals: body.allowed_principals });
    expect((await call(admin, 'PUT', `/v1/${mount}/roles/${name}`, { token_default_ttl: '30m' })).status).toBe(204);
    const updated = (await call(admin, 'GET', `/v1/${mount}/roles/${name}`)).body.data;
    expect([1800, '30m', '1800', '30m0s']).toContainEqual(updated?.token_default_ttl);
    expect(updated?.allowed_principals).toEqual(body.allowed_principals); // partial update kept the rest
    // the ci session sees the roles its role ARN is allowed on
    expect((await call(ci, 'GET', `/v1/${mount}/roles?list=true`)).body.data?.keys).toContain(name);
    expect((await call(admin, 'DELETE', `/v1/${mount}/roles/${name}`)).status).toBe(204);
    expect((await call(admin, 'GET', `/v1/${mount}/roles/${name}`)).status).toBe(404);
  }, T);

  const issued: Record<string, { leaseId: string; token: string; sa: string }> = {};

  test.each(['demo-generated', 'demo-bind-role', 'demo-existing-sa'])('creds for %s as ci, token works on the apiserver', async (role) => {
    const res = await call(ci, 'POST', `/v1/${mount}/creds/${role}`, { kubernetes_namespace: 'default', ttl: '20m' });
    expect(res.status).toBe(200);
    expect(res.body.lease_id).toMatch(new RegExp(`^${mount}/creds/${role}/`));
    expect(res.body.lease_duration).toBeGreaterThanOrEqual(1195);
    const data = res.body.data as { service_account_name: string; service_account_namespace: string; service_account_token: string };
    expect(data.service_account_namespace).toBe('default');
    issued[role] = { leaseId: res.body.lease_id!, token: data.service_account_token, sa: data.service_account_name };
    if (role === 'demo-existing-sa') {
      expect(data.service_account_name).toBe('default');
      const review = await adminKubeConfig()
        .makeApiClient(k8s.AuthenticationV1Api)
        .createTokenReview({ body: { spec: { token: data.service_account_token } } });
      expect(review.status?.authenticated).toBe(true);
      expect(review.status?.user?.username).toBe('system:serviceaccount:default:default');
    } else {
      expect(data.service_account_name).toMatch(new RegExp(`^kl-${role}-`));
      // RBAC is served from an informer cache: the fresh binding shows up within a moment
      await eventually(async () => expect(await listPodsAs(data.service_account_token)).toBe(200), { timeoutMs: 20_000 });
    }
  }, T);

  test('leases: lookup and list as owner and admin, revoke kills the token', async () => {
    const { leaseId, token, sa } = issued['demo-generated']!;
    const lookup = await call(ci, 'PUT', '/v1/sys/leases/lookup', { lease_id: leaseId });
    expect(lookup.status).toBe(200);
    expect(lookup.body.data).toMatchObject({ id: leaseId, renewable: false });
    expect((await call(admin, 'PUT', '/v1/sys/leases/lookup', { lease_id: leaseId })).status).toBe(200);
    const mine = await call(ci, 'GET', `/v1/${mount}/leases?list=true`);
    expect(mine.body.data?.keys).toEqual(expect.arrayContaining(Object.values(issued).map((i) => i.leaseId)));
    const byRole = await call(admin, 'GET', `/v1/${mount}/leases/demo-generated?list=true`);
    expect(byRole.body.data?.keys).toEqual([leaseId]);

    expect((await call(ci, 'PUT', '/v1/sys/leases/revoke', { lease_id: leaseId })).status).toBe(204);
    expect(await saStatus(sa)).toBe(404);
    expect(await leaseItem(leaseId)).toBeUndefined();
    // the token dies with its ServiceAccount (token cache: seconds)
    await eventually(async () => expect(await listPodsAs(token)).toBe(401), { timeoutMs: 30_000, intervalMs: 1000 });
    // a revoke is a user delete on the stream: the expire handler must not act (nothing to check
    // but that the poller keeps up and nothing fails)
    expect((await call(ci, 'PUT', '/v1/sys/leases/lookup', { lease_id: leaseId })).status).toBe(404);
  }, T);

  test('expiry: DynamoDB TTL deletes the lease item, the stream poller runs expire, objects are gone', async () => {
    const { leaseId, sa } = issued['demo-bind-role']!;
    expect(await saStatus(sa)).toBe(200);
    const past = Math.floor(Date.now() / 1000) - 60;
    await ddb.send(
      new UpdateItemCommand({
        TableName: stack.tables.leases,
        Key: { lease_id: { S: leaseId } },
        UpdateExpression: 'SET expires_at = :t',
        ExpressionAttributeValues: { ':t': { N: String(past) } },
      }),
    );
    await eventually(async () => expect(await leaseItem(leaseId)).toBeUndefined(), { timeoutMs: 150_000, intervalMs: 1000 });
    await eventually(async () => expect(await saStatus(sa)).toBe(404), { timeoutMs: 30_000, intervalMs: 500 });
    const bindings = await adminKubeConfig()
      .makeApiClient(k8s.RbacAuthorizationV1Api)
      .listNamespacedRoleBinding({ namespace: 'default', labelSelector: `kubelease.io/mount=${mount},kubelease.io/role=demo-bind-role` });
    expect(bindings.items).toEqual([]);
  }, 200_000);

  test('sweep removes an orphaned labeled object whose expiry passed', async () => {
    const name = `kl-orphan-${suffix}`;
    await adminCore.createNamespacedServiceAccount({
      namespace: 'default',
      body: {
        metadata: {
          name,
          labels: { 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/lease': `h${suffix}`, 'kubelease.io/role': 'gone', 'kubelease.io/mount': mount },
          annotations: { 'kubelease.io/expires-at': new Date(Date.now() - 3600_000).toISOString() },
        },
      },
    });
    const report = await stack.sweepNow();
    expect(report.failures).toEqual([]);
    expect(report.orphansRemoved).toBeGreaterThanOrEqual(1);
    expect(await saStatus(name)).toBe(404);
    // live leases were left alone
    expect(await leaseItem(issued['demo-existing-sa']!.leaseId)).toBeDefined();
  }, T);

  test('restart against the same tables keeps config, roles and leases', async () => {
    await stack.stop();
    stack = await start();
    expect(stack.firstStart).toBe(false);
    expect(principal(stack.credentials.credentials, 'admin').secret_access_key).toBe(admin.secret_access_key);
    expect((await call(admin, 'GET', `/v1/${mount}/config`)).body.data).toMatchObject({ kubernetes_host: bed.apiserver.url });
    expect((await call(admin, 'GET', `/v1/${mount}/roles?list=true`)).body.data?.keys).toEqual(['demo-bind-role', 'demo-existing-sa', 'demo-generated']);
    const { leaseId } = issued['demo-existing-sa']!;
    expect((await call(ci, 'GET', `/v1/${mount}/leases?list=true`)).body.data?.keys).toEqual([leaseId]);
    // and the restarted stack still issues and revokes
    const res = await call(ci, 'POST', `/v1/${mount}/creds/demo-generated`, { kubernetes_namespace: 'default' });
    expect(res.status).toBe(200);
    expect((await call(admin, 'PUT', '/v1/sys/leases/revoke', { lease_id: res.body.lease_id })).status).toBe(204);
    expect((await call(ci, 'PUT', '/v1/sys/leases/revoke', { lease_id: leaseId })).status).toBe(204);
  }, T);

  test('the EKS mount: the config item holds no JWT; creds in all three modes through EKS auth', async () => {
    const item = (await ddb.send(new GetItemCommand({ TableName: stack.tables.config, Key: { mount: { S: eksMount } }, ConsistentRead: true }))).Item;
    expect(Object.keys(item ?? {}).sort()).toEqual(['auth_kind', 'disable_local_ca_jwt', 'eks_cluster_name', 'eks_region', 'kubernetes_ca_cert', 'kubernetes_host', 'mount']);
    expect(item).toMatchObject({ auth_kind: { S: 'eks' }, eks_cluster_name: { S: bed.eks.clusterName }, eks_region: { S: bed.eks.region } });
    expect(JSON.stringify(item)).not.toMatch(/eyJ|service_account_jwt/);
    const config = await call(admin, 'GET', `/v1/${eksMount}/config`);
    expect(config.body.data).toMatchObject({ auth_kind: 'eks', eks_cluster_name: bed.eks.clusterName, kubernetes_host: bed.apiserver.url });
    for (const role of ['demo-existing-sa', 'demo-bind-role', 'demo-generated']) {
      const res = await call(ci, 'POST', `/v1/${eksMount}/creds/${role}`, { kubernetes_namespace: 'default', ttl: '15m' });
      expect([role, res.status]).toEqual([role, 200]);
      const data = res.body.data as { service_account_name: string; service_account_token: string };
      const review = await adminKubeConfig().makeApiClient(k8s.AuthenticationV1Api).createTokenReview({ body: { spec: { token: data.service_account_token } } });
      expect(review.status?.user?.username).toBe(`system:serviceaccount:default:${data.service_account_name}`);
      expect((await call(ci, 'PUT', '/v1/sys/leases/revoke', { lease_id: res.body.lease_id })).status).toBe(204);
    }
  }, T);

  const curlPresent = existsSync('/usr/bin/curl') || existsSync('/bin/curl');
  (curlPresent ? test : test.skip)('curl --aws-sigv4 as in docs/local.md, including -X LIST and the ci session token', async () => {
    const curl = (args: string[]) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) =>
        execFile('curl', ['-sS', '-w', '\n%{http_code}', '--aws-sigv4', 'aws:amz:us-east-1:execute-api', ...args], (err, stdout) => {
          if (err) return reject(err);
          const lines = stdout.split('\n');
          const status = Number(lines.pop());
          const text = lines.join('\n');
          resolve({ status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        }),
      );
    const asAdmin = ['--user', `${admin.access_key_id}:${admin.secret_access_key}`];
    const asCi = ['--user', `${ci.access_key_id}:${ci.secret_access_key}`, '-H', `x-amz-security-token: ${ci.session_token}`];
    const list = await curl([...asAdmin, '-X', 'LIST', `${stack.url}/v1/${mount}/roles`]);
    expect(list).toMatchObject({ status: 200, body: { data: { keys: ['demo-bind-role', 'demo-existing-sa', 'demo-generated'] } } });
    const get = await curl([...asAdmin, `${stack.url}/v1/${mount}/roles?list=true`]);
    expect(get.status).toBe(200);
    const creds = await curl([...asCi, '-X', 'POST', `${stack.url}/v1/${mount}/creds/demo-generated`, '-d', '{"kubernetes_namespace":"default"}']);
    expect(creds.status).toBe(200);
    const leaseId = creds.body.lease_id as string;
    const revoke = await curl([...asCi, '-X', 'PUT', `${stack.url}/v1/sys/leases/revoke`, '-d', JSON.stringify({ lease_id: leaseId })]);
    expect(revoke.status).toBe(204);
    const bad = await curl(['--user', `${admin.access_key_id}:not-it`, `${stack.url}/v1/mounts?list=true`]);
    expect(bad.status).toBe(403);
  }, T);

  (curlPresent ? test : test.skip)('the printed npm start examples issue tokens through both mounts', async () => {
    const text = usage(stack);
    const commandAfter = (comment: string) => {
      const lines = text.split('\n');
      const i = lines.findIndex((l) => l.startsWith(comment));
      expect([comment, i >= 0]).toEqual([comment, true]);
      return lines[i + 1] as string;
    };
    for (const comment of ['# issue a token as ci for the generated-role demo', '# the same through the EKS mount']) {
      const cmd = commandAfter(comment);
      expect(cmd).toContain(comment.includes('EKS') ? `/v1/${eksMount}/creds/` : `/v1/${mount}/creds/`);
      const out = await new Promise<string>((resolve, reject) => execFile('sh', ['-c', cmd], (err, stdout) => (err ? reject(err) : resolve(stdout))));
      const body = JSON.parse(out) as { lease_id: string; data: { service_account_token: string } };
      expect(body.data.service_account_token).toMatch(/^eyJ/);
      expect((await call(ci, 'PUT', '/v1/sys/leases/revoke', { lease_id: body.lease_id })).status).toBe(204);
    }
  }, T);
});
