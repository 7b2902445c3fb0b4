/**
 * The Lambda handlers, driven with API Gateway REST events, against DynamoDB Local and the real
 * apiserver: every endpoint, envelopes, the authz matrix, fail-closed roles, expiry paths.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult, DynamoDBRecord } from 'aws-lambda';
import { localTableNames } from '../../lib/local/tables.js';
import { MemoryAudit } from '../../lib/adapters/memory/index.js';
import { handleExpire } from '../../lib/lambda/expire-handler.js';
import { handleHttp } from '../../lib/lambda/http-handler.js';
import { setDeps } from '../../lib/lambda/runtime.js';
import { handleSweep } from '../../lib/lambda/sweep-handler.js';
import { metrics } from '../../lib/lambda/observability.js';
import { adminKubeConfig, dynamoClient, eventually, loadBed, newNamespace, uniqueSuffix } from '../support/bed.js';
import { matchRoute, restEvent, type EventInput } from '../support/apigw.js';
import { objectsOfLease } from '../support/kube-probes.js';
import { ADMIN as BED_ADMIN, CI as BED_CI, STRANGER as BED_STRANGER } from '../support/engine.js';
import { bedHandlerDeps } from '../support/handler-deps.js';
import { expireBeyondTtl } from '../support/ttl.js';

const ADMIN = BED_ADMIN.arn;
const CI = BED_CI.arn;
const CI_OTHER_SESSION = CI.replace(/[^/]+$/, 'build-8');
const STRANGER = BED_STRANGER.arn;
const MOUNT = 'handlers';

const names = localTableNames(`kl-h-${uniqueSuffix()}`);
const audit = new MemoryAudit();
let ns: string;
const logs: string[] = [];
const write = process.stdout.write.bind(process.stdout);

interface Reply {
  status: number;
  body: Record<string, unknown> & { errors?: string[]; data?: Record<string, unknown> };
}

async function call(input: Partial<EventInput> & Pick<EventInput, 'method' | 'path'>): Promise<Reply> {
  const event = restEvent({ arn: ADMIN, ...input });
  const fn = matchRoute(input.path)?.route.fn;
  if (!fn) throw new Error('no route');
  const res: APIGatewayProxyResult = await handleHttp(fn, event, { awsRequestId: 'test' });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Reply['body']) : {} };
}

const creds = (arn = CI, body: Record<string, unknown> = {}, role = 'gen') =>
  call({ method: 'POST', path: `/v1/${MOUNT}/creds/${role}`, arn, body: { kubernetes_namespace: ns, ...body } });

const rawLease = async (leaseId: string) =>
  (await dynamoClient().send(new GetItemCommand({ TableName: names.leases, Key: { lease_id: { S: leaseId } } }))).Item;

const ttlRemoval = (image: Record<string, AttributeValue>, seq: string): DynamoDBRecord => ({
  eventID: seq,
  eventName: 'REMOVE',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
  dynamodb: { Keys: { lease_id: image.lease_id as never }, OldImage: image as never, SequenceNumber: seq, StreamViewType: 'OLD_IMAGE' },
});

/** An expired lease whose item lingers, as when DynamoDB TTL runs late (here: never). */
const expireInPlace = (leaseId: string) => expireBeyondTtl(names.leases, leaseId);

const sweepNow = () => handleSweep({ getRemainingTimeInMillis: () => 60_000 });

/** A role item edited in the console so that it breaks a rule (default TTL above the max). */
const putBrokenRole = (name: string) =>
  dynamoClient().send(
    new PutItemCommand({
      TableName: names.roles,
      Item: {
        mount: { S: MOUNT },
        name: { S: name },
        allowed_kubernetes_namespaces: { L: [{ S: ns }] },
        service_account_name: { S: 'default' },
        token_default_ttl: { N: '7200' },
        token_max_ttl: { N: '3600' },
        allowed_principals: { L: [{ S: 'arn:aws:iam::123456789012:role/ci-*' }] },
      },
    }),
  );

const installationId = async () => ((await call({ method: 'GET', path: '/v1/mounts', query: { list: 'true' } })).body.data as { installation_id: string }).installation_id;

beforeAll(async () => {
  const bed = loadBed();
  setDeps({ ...(await bedHandlerDeps(names, ADMIN, { KUBELEASE_ORPHAN_GRACE_SECONDS: '1' })), audit });
  // the handlers' JSON log lines are collected (and checked for secrets), not printed
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const line = String(chunk);
    logs.push(line);
    return line.startsWith('{"level"') ? true : write(chunk, ...rest);
  }) as typeof process.stdout.write;
  ns = await newNamespace('kl-h');
  const cfg = await call({
    method: 'POST',
    path: `/v1/${MOUNT}/config`,
    body: { kubernetes_host: bed.apiserver.url, kubernetes_ca_cert: bed.apiserver.caPem, service_account_jwt: bed.broker.token },
  });
  expect(cfg.status).toBe(204);
  const role = await call({
    method: 'POST',
    path: `/v1/${MOUNT}/roles/gen`,
    body: {
      allowed_kubernetes_namespaces: ns,
      generated_role_rules: 'rules:\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["list"]\n',
      token_default_ttl: '15m',
      allowed_principals: 'arn:aws:iam::123456789012:role/ci-*',
    },
  });
  expect(role.status).toBe(204);
});

afterAll(() => {
  setDeps(undefined);
  process.stdout.write = write;
});

describe('config and mounts', () => {
  test('read never returns the JWT; list mounts; bad input names the field', async () => {
    const read = await call({ method: 'GET', path: `/v1/${MOUNT}/config` });
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ kubernetes_host: loadBed().apiserver.url, auth_kind: 'service_account_jwt' });
    expect(JSON.stringify(read.body)).not.toContain(loadBed().broker.token);
    expect(read.body).toMatchObject({ request_id: expect.any(String), lease_id: '', renewable: false, lease_duration: 0 });
    const mounts = await call({ method: 'GET', path: '/v1/mounts', query: { list: 'true' } });
    expect((mounts.body.data as { keys: string[] }).keys).toContain(MOUNT);
    const bad = await call({ method: 'POST', path: '/v1/other/config', body: { kubernetes_host: 'ftp://x', bogus: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.join(' ')).toMatch(/kubernetes_host/);
    expect(bad.body.errors?.join(' ')).toMatch(/bogus/);
    expect((await call({ method: 'GET', path: '/v1/other/config' })).status).toBe(404);
  });

  test('deleting a config with live leases is a 409 unless forced', async () => {
    const issued = await creds();
    expect(issued.status).toBe(200);
    const refused = await call({ method: 'DELETE', path: `/v1/${MOUNT}/config` });
    expect(refused.status).toBe(409);
    expect(refused.body.errors?.[0]).toMatch(/live lease/);
    await call({ method: 'PUT', path: '/v1/sys/leases/revoke', body: { lease_id: issued.body.lease_id } });
  });
});

describe('roles', () => {
  test('write, read (Vault shape), list, partial update, delete', async () => {
    const path = `/v1/${MOUNT}/roles/reader`;
    expect((await call({ method: 'POST', path, body: { allowed_kubernetes_namespaces: 'b,a', service_account_name: 'default', token_max_ttl: '2h' } })).status).toBe(204);
    expect((await call({ method: 'PUT', path, body: { token_default_ttl: 900 } })).status).toBe(204);
    const read = await call({ method: 'GET', path });
    expect(read.body.data).toMatchObject({ allowed_kubernetes_namespaces: ['a', 'b'], token_max_ttl: 7200, token_default_ttl: 900, service_account_name: 'default' });
    const list = await call({ method: 'GET', path: `/v1/${MOUNT}/roles`, query: { list: 'true' } });
    expect((list.body.data as { keys: string[] }).keys).toEqual(['gen', 'reader']);
    expect((await call({ method: 'DELETE', path })).status).toBe(204);
    expect((await call({ method: 'GET', path })).status).toBe(404);
  });

  test('invalid roles are 400s that name the field; nothing is stored', async () => {
    const path = `/v1/${MOUNT}/roles/broken`;
    const both = await call({ method: 'POST', path, body: { allowed_kubernetes_namespaces: '*', service_account_name: 'x', kubernetes_role_name: 'y' } });
    expect(both.status).toBe(400);
    expect(both.body.errors?.join(' ')).toMatch(/service_account_name|kubernetes_role_name/);
    const ttl = await call({ method: 'POST', path, body: { allowed_kubernetes_namespaces: '*', service_account_name: 'x', token_default_ttl: '2h', token_max_ttl: '1h' } });
    expect(ttl.status).toBe(400);
    expect(ttl.body.errors?.join(' ')).toMatch(/token_default_ttl/);
    const json = await call({ method: 'POST', path, body: '{not json' });
    expect(json.status).toBe(400);
    expect((await call({ method: 'GET', path })).status).toBe(404);
  });

  test('a role item broken in the console fails closed with 422 naming the item and field', async () => {
    await putBrokenRole('console-edit');
    const res = await creds(CI, {}, 'console-edit');
    expect(res.status).toBe(422);
    expect(res.body.errors?.join(' ')).toMatch(/console-edit/);
    expect(res.body.errors?.join(' ')).toMatch(/token_default_ttl/);
  });

  test('role check reports what the broker may and may not do', async () => {
    const res = await call({ method: 'POST', path: `/v1/${MOUNT}/roles/gen/check`, body: {} });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ namespace: ns, ok: true, missing: [] });
  });
});

describe('authorization matrix', () => {
  test.each([
    ['admin on config', ADMIN, 'GET', `/v1/${MOUNT}/config`, 200],
    ['ci on config', CI, 'GET', `/v1/${MOUNT}/config`, 403],
    ['stranger on roles', STRANGER, 'POST', `/v1/${MOUNT}/roles/x`, 403],
    ['no identity on creds', null, 'POST', `/v1/${MOUNT}/creds/gen`, 403],
    ['stranger on creds', STRANGER, 'POST', `/v1/${MOUNT}/creds/gen`, 403],
    ['ci list roles sees usable roles', CI, 'GET', `/v1/${MOUNT}/roles`, 200],
  ] as const)('%s', async (_name, arn, method, path, status) => {
    const res = await call({ method, path, arn, query: { list: 'true' }, body: { kubernetes_namespace: ns } });
    expect(res.status).toBe(status);
    if (status === 403) expect(res.body.errors?.[0]).toBeTruthy();
  });
});

describe('creds and leases', () => {
  test('an assumed-role session issues; envelope as Vault; audit and logs carry no token', async () => {
    const res = await creds();
    expect(res.status).toBe(200);
    const token = (res.body.data as { service_account_token: string }).service_account_token;
    expect(res.body.lease_id).toMatch(new RegExp(`^${MOUNT}/creds/gen/[A-Za-z0-9]{24}$`));
    expect(res.body.renewable).toBe(false);
    expect(res.body.lease_duration).toBeGreaterThan(840);
    expect(res.body.lease_duration).toBeLessThanOrEqual(900);
    expect(audit.events.some((e) => e.lease_id === res.body.lease_id && e.outcome === 'success')).toBe(true);
    expect(JSON.stringify(audit.events)).not.toContain(token);
    expect(logs.join('')).not.toContain(token);
    expect(logs.join('')).not.toContain(loadBed().broker.token);

    const other = await call({ method: 'PUT', path: '/v1/sys/leases/lookup', arn: STRANGER, body: { lease_id: res.body.lease_id } });
    expect(other.status).toBe(404);
    const own = await call({ method: 'PUT', path: '/v1/sys/leases/lookup', arn: CI_OTHER_SESSION, body: { lease_id: res.body.lease_id } });
    expect(own.status).toBe(200);
    expect(own.body.data).toMatchObject({ id: res.body.lease_id, renewable: false, role: 'gen', namespace: ns });

    const ciList = await call({ method: 'GET', path: `/v1/${MOUNT}/leases/gen`, arn: CI, query: { list: 'true' } });
    expect((ciList.body.data as { keys: string[] }).keys).toContain(res.body.lease_id);
    const strangerList = await call({ method: 'GET', path: `/v1/${MOUNT}/leases`, arn: STRANGER, query: { list: 'true' } });
    expect((strangerList.body.data as { keys: string[] }).keys).toEqual([]);

    const revoked = await call({ method: 'PUT', path: '/v1/sys/leases/revoke', arn: CI, body: { lease_id: res.body.lease_id } });
    expect(revoked.status).toBe(204);
    expect(await rawLease(res.body.lease_id as string)).toBeUndefined();
    const again = await call({ method: 'PUT', path: '/v1/sys/leases/revoke', arn: CI, body: { lease_id: res.body.lease_id } });
    expect(again.status).toBe(404);
  });

  test('bad creds input is a 400 naming the field; a namespace outside the role is refused', async () => {
    const ttl = await creds(CI, { ttl: 'soon' });
    expect(ttl.status).toBe(400);
    expect(ttl.body.errors?.join(' ')).toMatch(/ttl/);
    const unknown = await creds(CI, { kubernetes_namespce: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.join(' ')).toMatch(/kubernetes_namespce/);
    const outside = await creds(CI, { kubernetes_namespace: 'default' });
    expect(outside.status).toBe(400);
    expect(outside.body.errors?.join(' ')).toMatch(/kubernetes_namespace/);
  });
});

describe('expiry paths', () => {
  test('a TTL REMOVE stream record deletes the objects; a user delete record is ignored', async () => {
    const res = await creds();
    const leaseId = res.body.lease_id as string;
    const image = (await rawLease(leaseId)) as Record<string, AttributeValue>;
    const hash = image.lease_hash?.S as string;
    expect((await objectsOfLease(hash)).length).toBe(3);
    await dynamoClient().send(new DeleteItemCommand({ TableName: names.leases, Key: { lease_id: { S: leaseId } } }));

    const userDelete = { ...ttlRemoval(image, '100'), userIdentity: undefined };
    expect(await handleExpire({ Records: [userDelete] })).toEqual({ batchItemFailures: [] });
    expect((await objectsOfLease(hash)).length).toBe(3);

    expect(await handleExpire({ Records: [ttlRemoval(image, '101')] })).toEqual({ batchItemFailures: [] });
    expect(await objectsOfLease(hash)).toEqual([]);
  });

  test('the sweeper expires a lingering expired lease and removes an orphan whose lease vanished', async () => {
    const res = await creds();
    const leaseId = res.body.lease_id as string;
    const hash = (await rawLease(leaseId))?.lease_hash?.S as string;
    const orphanName = `kl-orphan-${uniqueSuffix()}`;
    await adminKubeConfig()
      .makeApiClient(k8s.CoreV1Api)
      .createNamespacedServiceAccount({
        namespace: ns,
        body: {
          metadata: {
            name: orphanName,
            labels: {
              'app.kubernetes.io/managed-by': 'kubelease',
              'kubelease.io/lease': 'gone0000000000000000',
              'kubelease.io/mount': MOUNT,
              'kubelease.io/installation': await installationId(),
            },
            annotations: { 'kubelease.io/expires-at': new Date(Date.now() + 3_600_000).toISOString() },
          },
        },
      });
    // older than the 1 s orphan grace set above, in whole seconds as creationTimestamp counts them
    await sleep(2100);
    await expireInPlace(leaseId);
    const report = await sweepNow();
    expect(report.failures).toEqual([]);
    expect(report.expiredLeases).toBeGreaterThanOrEqual(1);
    expect(report.orphansRemoved).toBeGreaterThanOrEqual(1);
    expect(await objectsOfLease(hash)).toEqual([]);
    expect(await objectsOfLease('gone0000000000000000')).toEqual([]);
    expect(await rawLease(leaseId)).toBeUndefined();
  });

  test('stream redelivery and the sweeper racing on one lease delete each object once', async () => {
    const res = await creds();
    const leaseId = res.body.lease_id as string;
    await expireInPlace(leaseId);
    const image = (await rawLease(leaseId)) as Record<string, AttributeValue>;
    const hash = image.lease_hash?.S as string;
    audit.clear();
    const record = ttlRemoval(image, '200');
    const [first, second, report] = await Promise.all([
      handleExpire({ Records: [record] }),
      handleExpire({ Records: [record] }),
      sweepNow(),
    ]);
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    const expireDeleted = audit.events
      .filter((e) => e.action === 'expire')
      .map((e) => Number(/deleted (\d+)/.exec(e.detail ?? '')?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    expect(expireDeleted + report.objectsDeleted).toBe(3);
    await eventually(async () => expect(await objectsOfLease(hash)).toEqual([]));
  });
});

describe('issue 10 through the handlers, on DynamoDB Local', () => {
  test('item 3: GET /v1/mounts shows the installation id; it is created once and labels every object', async () => {
    const id = await installationId();
    expect(id).toMatch(/^[a-z0-9]{16}$/);
    expect(await installationId()).toBe(id);
    const config = await dynamoClient().send(new GetItemCommand({ TableName: names.config, Key: { mount: { S: 'sys/installation' } } }));
    expect(config.Item?.installation_id?.S).toBe(id);
    const issued = await creds();
    const hash = (await rawLease(issued.body.lease_id as string))?.lease_hash?.S as string;
    const sa = await adminKubeConfig().makeApiClient(k8s.CoreV1Api).listNamespacedServiceAccount({ namespace: ns, labelSelector: `kubelease.io/lease=${hash}` });
    expect(sa.items.map((i) => i.metadata?.labels?.['kubelease.io/installation'])).toEqual([id]);
    await call({ method: 'PUT', path: '/v1/sys/leases/revoke', body: { lease_id: issued.body.lease_id } });
  });

  test('item 4: an oversized role is a 400 naming the field and limit; lease items stay small', async () => {
    const big = await call({
      method: 'POST',
      path: `/v1/${MOUNT}/roles/big`,
      body: { allowed_kubernetes_namespaces: ns, service_account_name: 'default', extra_annotations: { 'example.com/blob': 'x'.repeat(160_000) } },
    });
    expect(big.status).toBe(400);
    expect(big.body.errors?.join(' ')).toMatch(/extra_annotations.*32768/);
    const many = await call({
      method: 'POST',
      path: `/v1/${MOUNT}/roles/many`,
      body: { allowed_kubernetes_namespaces: ns, service_account_name: 'default', allowed_principals: Array.from({ length: 4000 }, (_, i) => `arn:aws:iam::123456789012:role/r${i}`) },
    });
    expect(many.status).toBe(400);
    expect(many.body.errors?.join(' ')).toMatch(/allowed_principals.*256/);

    const annotated = await call({
      method: 'POST',
      path: `/v1/${MOUNT}/roles/annotated`,
      body: {
        allowed_kubernetes_namespaces: ns,
        generated_role_rules: 'rules:\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["list"]\n',
        extra_annotations: { 'example.com/note': 'n'.repeat(30_000) },
        extra_labels: { team: 'payments' },
        allowed_principals: 'arn:aws:iam::123456789012:role/ci-*',
      },
    });
    expect(annotated.status).toBe(204);
    const issued = await creds(CI, {}, 'annotated');
    expect(issued.status).toBe(200);
    const item = await rawLease(issued.body.lease_id as string);
    expect(JSON.stringify(item).length).toBeLessThan(4096);
    const hash = item?.lease_hash?.S as string;
    expect(await objectsOfLease(hash)).toHaveLength(3);
    const revoked = await call({ method: 'PUT', path: '/v1/sys/leases/revoke', arn: CI, body: { lease_id: issued.body.lease_id } });
    expect(revoked.status).toBe(204);
    expect(await objectsOfLease(hash)).toEqual([]);
  });

  test('item 5: over-long path parameters are 400s, never 502s', async () => {
    const longRole = 'r'.repeat(1100);
    const longMount = 'm'.repeat(2100);
    for (const [arn, method, path, query] of [
      [CI, 'POST', `/v1/${MOUNT}/creds/${longRole}`, undefined],
      [CI, 'POST', `/v1/${longMount}/creds/gen`, undefined],
      [ADMIN, 'GET', `/v1/${MOUNT}/roles/${longRole}`, undefined],
      [ADMIN, 'GET', `/v1/${longMount}/roles`, { list: 'true' }],
      [CI, 'GET', `/v1/${longMount}/leases`, { list: 'true' }],
      [CI, 'GET', `/v1/${MOUNT}/leases/${longRole}`, { list: 'true' }],
    ] as const) {
      const res = await call({ method, path, arn, ...(query ? { query } : {}), body: { kubernetes_namespace: ns } });
      expect([path.slice(0, 40), res.status]).toEqual([path.slice(0, 40), 400]);
    }
  });

  test('item 6: a non-admin gets one answer for absent and not yours', async () => {
    await putBrokenRole('broken-for-stranger');
    const broken = await creds(STRANGER, {}, 'broken-for-stranger');
    const missing = await creds(STRANGER, {}, 'no-such-role');
    expect([broken.status, missing.status]).toEqual([403, 403]);
    expect(broken.body.errors).toEqual(missing.body.errors?.map((e) => e.replace('"no-such-role"', '"broken-for-stranger"')));
    expect(JSON.stringify(broken.body)).not.toContain('7200');
    const unknownMount = await call({ method: 'GET', path: '/v1/nowhere/roles', arn: STRANGER, query: { list: 'true' } });
    const knownMount = await call({ method: 'GET', path: `/v1/${MOUNT}/roles`, arn: STRANGER, query: { list: 'true' } });
    expect([unknownMount.status, unknownMount.body.data]).toEqual([200, { keys: [] }]);
    expect([knownMount.status, knownMount.body.data]).toEqual([200, { keys: [] }]);
    const unknownLeases = await call({ method: 'GET', path: '/v1/nowhere/leases', arn: STRANGER, query: { list: 'true' } });
    expect([unknownLeases.status, unknownLeases.body.data]).toEqual([200, { keys: [], key_info: {} }]);
  });

  test('item 13: revoking a revocable=false lease answers 200 with a warning', async () => {
    const role = await call({
      method: 'POST',
      path: `/v1/${MOUNT}/roles/plain`,
      body: { allowed_kubernetes_namespaces: ns, service_account_name: 'default', revocable: false, allowed_principals: 'arn:aws:iam::123456789012:role/ci-*' },
    });
    expect(role.status).toBe(204);
    const issued = await creds(CI, {}, 'plain');
    expect(issued.status).toBe(200);
    const revoked = await call({ method: 'PUT', path: '/v1/sys/leases/revoke', arn: CI, body: { lease_id: issued.body.lease_id } });
    expect(revoked.status).toBe(200);
    expect((revoked.body.warnings as string[])[0]).toMatch(/not revocable.*stays valid until/);
  });
});

describe('metrics: the names and dimensions the alarms and dashboard (infra/) read', () => {
  interface Emf {
    _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
    [key: string]: unknown;
  }
  /** EMF lines written since `from`, after flushing what the middy middleware would flush. */
  const emitted = (from: number): Emf[] => {
    metrics.publishStoredMetrics();
    return logs
      .slice(from)
      .filter((l) => l.startsWith('{"_aws"'))
      .map((l) => JSON.parse(l) as Emf);
  };
  /** Like the middy middleware between invocations: flush (and clear the `op` dimension) first. */
  const mark = (): number => {
    metrics.publishStoredMetrics();
    return logs.length;
  };
  const withMetric = (lines: Emf[], name: string) => lines.filter((l) => l._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name));

  test('creds: Issued and IssueLatency by mode, Failures by cause', async () => {
    const from = mark();
    expect((await creds()).status).toBe(200);
    expect((await creds(STRANGER)).status).toBe(403);
    const lines = emitted(from);
    const [issued] = withMetric(lines, 'Issued');
    expect(issued?._aws.CloudWatchMetrics[0]).toEqual({ Namespace: 'Kubelease', Dimensions: [['service', 'mode']], Metrics: [{ Name: 'Issued', Unit: 'Count' }] });
    expect(issued).toMatchObject({ service: 'kubelease', mode: 'generated_role', Issued: 1 });
    const [latency] = withMetric(lines, 'IssueLatency');
    expect(latency?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'mode']]);
    expect(latency).toMatchObject({ mode: 'generated_role', IssueLatency: expect.any(Number) });
    const [failure] = withMetric(lines, 'Failures');
    expect(failure?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'cause']]);
    expect(failure).toMatchObject({ service: 'kubelease', cause: 'forbidden', Failures: 1 });
  });

  test('expire: Expired and ExpiryLag; sweep: SweptLeases, SweepFailures, LiveLeases, SweepExpiryLag', async () => {
    const live = await creds();
    expect(live.status).toBe(200);
    const res = await creds();
    const image = (await rawLease(res.body.lease_id as string)) as Record<string, AttributeValue>;
    await dynamoClient().send(new DeleteItemCommand({ TableName: names.leases, Key: { lease_id: { S: res.body.lease_id as string } } }));
    let from = mark();
    await handleExpire({ Records: [ttlRemoval({ ...image, expires_at: { N: String(Math.floor(Date.now() / 1000) - 30) } }, '300')] });
    let [line] = withMetric(emitted(from), 'ExpiryLag');
    expect(line?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(line).toMatchObject({ service: 'kubelease', Expired: 1 });
    expect(line?.ExpiryLag).toBeGreaterThanOrEqual(30);

    const late = await creds();
    await expireInPlace(late.body.lease_id as string);
    from = mark();
    await sweepNow();
    [line] = withMetric(emitted(from), 'SweepFailures');
    expect(line?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(line?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name).sort()).toEqual(['LiveLeases', 'OrphansRemoved', 'SweepExpiryLag', 'SweepFailures', 'SweptLeases']);
    expect(line?.LiveLeases).toBeGreaterThanOrEqual(1);
    expect(line?.SweptLeases).toBeGreaterThanOrEqual(1);
    expect(line?.SweepExpiryLag).toBeGreaterThanOrEqual(5);
  });
});
