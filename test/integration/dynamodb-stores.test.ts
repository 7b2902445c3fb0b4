/**
 * The DynamoDB adapters against real DynamoDB Local from the test bed: conditional writes,
 * pagination over the GSIs, JWT-at-rest encryption and stream images.
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lib/adapters/dynamodb/client.js';
import { createTables, localTableNames } from '../../lib/local/tables.js';
import { DynamoConfigStore } from '../../lib/adapters/dynamodb/config-store.js';
import { DynamoLeaseStore, leaseFromImage } from '../../lib/adapters/dynamodb/lease-store.js';
import { DynamoRoleStore } from '../../lib/adapters/dynamodb/role-store.js';
import { LEASES_BY_MOUNT_EXPIRY, LEASES_BY_MOUNT_ROLE } from '../../lib/tables.js';
import { LocalSecretBox } from '../../lib/local/secret-box.js';
import { KubeleaseError } from '../../lib/domain/errors.js';
import type { ClusterConfig, Lease } from '../../lib/domain/types.js';
import { eventually, loadBed } from '../support/bed.js';

/** DynamoDB Local answers in milliseconds, but table creation and stream reads take seconds */
const SLOW = 60_000;

const bed = loadBed();
const clientOptions = { endpoint: bed.dynamodb.endpoint, region: bed.dynamodb.region, credentials: bed.dynamodb.credentials };
const names = localTableNames(`kl-ddbstores-${randomBytes(4).toString('hex')}`);
const raw = new DynamoDBClient(clientOptions);
const doc = createDocumentClient(clientOptions);
const box = new LocalSecretBox(randomBytes(32));

/** A document client that records which commands it sent (to prove pagination). */
function countingClient(): { client: DynamoDBDocumentClient; commands: string[] } {
  const client = createDocumentClient(clientOptions);
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, commands };
}

const JWT = `eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.${randomBytes(48).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

beforeAll(async () => {
  await createTables(raw, names);
  // idempotent, also through a document client
  await createTables(doc, names, { tables: ['leases'] });
}, SLOW);

afterAll(async () => {
  for (const t of Object.values(names)) await raw.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
  raw.destroy();
  doc.destroy();
}, SLOW);

describe('createTables', () => {
  test('leases table has both GSIs (ALL projection), OLD_IMAGE stream, on-demand billing and TTL on expires_at', async () => {
    const { Table } = await raw.send(new DescribeTableCommand({ TableName: names.leases }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'OLD_IMAGE' });
    const gsis = Object.fromEntries((Table?.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName ?? '', g]));
    expect(gsis[LEASES_BY_MOUNT_EXPIRY]?.KeySchema).toEqual([
      { AttributeName: 'mount', KeyType: 'HASH' },
      { AttributeName: 'expires_at', KeyType: 'RANGE' },
    ]);
    expect(gsis[LEASES_BY_MOUNT_ROLE]?.KeySchema).toEqual([
      { AttributeName: 'mount', KeyType: 'HASH' },
      { AttributeName: 'role_lease', KeyType: 'RANGE' },
    ]);
    for (const g of Object.values(gsis)) expect(g.Projection?.ProjectionType).toBe('ALL');
    const ttl = await raw.send(new DescribeTimeToLiveCommand({ TableName: names.leases }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expires_at' });
    expect(['ENABLED', 'ENABLING']).toContain(ttl.TimeToLiveDescription?.TimeToLiveStatus);
    const roles = await raw.send(new DescribeTableCommand({ TableName: names.roles }));
    expect(roles.Table?.KeySchema).toEqual([
      { AttributeName: 'mount', KeyType: 'HASH' },
      { AttributeName: 'name', KeyType: 'RANGE' },
    ]);
  }, SLOW);

  test('streams: false (benchmarks) creates the leases table with its indexes but no stream', async () => {
    const table = `${names.leases}-nostream`;
    await createTables(raw, { ...names, leases: table }, { tables: ['leases'], streams: false });
    try {
      const { Table } = await raw.send(new DescribeTableCommand({ TableName: table }));
      expect(Table?.StreamSpecification).toBeUndefined();
      expect((Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName).sort()).toEqual([LEASES_BY_MOUNT_EXPIRY, LEASES_BY_MOUNT_ROLE]);
    } finally {
      await raw.send(new DeleteTableCommand({ TableName: table }));
    }
  }, SLOW);
});

describe('DynamoConfigStore', () => {
  const store = new DynamoConfigStore({ client: doc, tableName: names.config, box });
  const jwtConfig = (mount: string): ClusterConfig => ({
    mount,
    kubernetes_host: 'https://127.0.0.1:6443',
    kubernetes_ca_cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    disable_local_ca_jwt: false,
    auth: { kind: 'service_account_jwt', service_account_jwt: JWT },
  });

  test('the service account JWT is stored only as ciphertext and opened on get', async () => {
    await store.put(jwtConfig('jwt-cluster'));
    const { Item } = await raw.send(new GetItemCommand({ TableName: names.config, Key: { mount: { S: 'jwt-cluster' } }, ConsistentRead: true }));
    expect(Item).toBeDefined();
    const text = JSON.stringify(Item);
    expect(text).not.toContain(JWT);
    expect(text).not.toContain(JWT.split('.')[1]!);
    expect(Item?.service_account_jwt).toBeUndefined();
    expect(Item?.service_account_jwt_ciphertext?.S).toMatch(/^v1:/);
    expect(await store.get('jwt-cluster')).toEqual(jwtConfig('jwt-cluster'));
    // bound to its mount: the same ciphertext copied to another mount does not open
    await raw.send(
      new UpdateItemCommand({
        TableName: names.config,
        Key: { mount: { S: 'copy-cluster' } },
        UpdateExpression: 'SET kubernetes_host = :h, auth_kind = :k, service_account_jwt_ciphertext = :c',
        ExpressionAttributeValues: { ':h': { S: 'https://x' }, ':k': { S: 'service_account_jwt' }, ':c': Item!.service_account_jwt_ciphertext! },
      }),
    );
    const err = await store.get('copy-cluster').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeleaseError);
    expect(String((err as Error).message)).not.toContain(JWT);
    await store.delete('copy-cluster');
  }, SLOW);

  test('put replaces the whole item (no partial update), delete is idempotent, list is sorted', async () => {
    await store.put(jwtConfig('replace-me'));
    const eks: ClusterConfig = {
      mount: 'replace-me',
      kubernetes_host: 'https://eks.example',
      kubernetes_ca_cert: '',
      disable_local_ca_jwt: true,
      auth: { kind: 'eks', eks_cluster_name: 'prod', eks_region: 'eu-west-1' },
    };
    await store.put(eks);
    const { Item } = await raw.send(new GetItemCommand({ TableName: names.config, Key: { mount: { S: 'replace-me' } }, ConsistentRead: true }));
    expect(Item?.service_account_jwt_ciphertext).toBeUndefined();
    expect(Item?.role_arn).toBeUndefined();
    expect(await store.get('replace-me')).toEqual(eks);
    const withRole: ClusterConfig = { ...eks, auth: { ...eks.auth, role_arn: 'arn:aws:iam::123456789012:role/kubelease' } as ClusterConfig['auth'] };
    await store.put(withRole);
    expect(await store.get('replace-me')).toEqual(withRole);

    await store.put(jwtConfig('b-cluster'));
    await store.put(jwtConfig('a-cluster'));
    expect(await store.list()).toEqual(['a-cluster', 'b-cluster', 'jwt-cluster', 'replace-me']);
    await store.delete('replace-me');
    await store.delete('replace-me');
    expect(await store.get('replace-me')).toBeUndefined();
    expect(await store.list()).toEqual(['a-cluster', 'b-cluster', 'jwt-cluster']);
  }, SLOW);

  test('the installation id is created once, race-safe, kept in the table and left out of list()', async () => {
    const table = `${names.config}-inst`;
    await createTables(doc, { ...names, config: table }, { tables: ['config'] });
    const stores = Array.from({ length: 6 }, () => new DynamoConfigStore({ client: doc, tableName: table, box }));
    expect(await stores[0]!.installationId()).toBeUndefined();
    let n = 0;
    const ids = await Promise.all(stores.map((s) => s.ensureInstallationId(() => `candidate${String(++n).padStart(7, '0')}`)));
    expect(new Set(ids).size).toBe(1);
    const { Item } = await raw.send(new GetItemCommand({ TableName: table, Key: { mount: { S: 'sys/installation' } }, ConsistentRead: true }));
    expect(Item?.installation_id?.S).toBe(ids[0]);
    const fresh = new DynamoConfigStore({ client: doc, tableName: table, box });
    expect(await fresh.installationId()).toBe(ids[0]);
    expect(await fresh.ensureInstallationId(() => 'never-used')).toBe(ids[0]);
    await fresh.put(jwtConfig('only-mount'));
    expect(await fresh.list()).toEqual(['only-mount']);
  }, SLOW);
});

describe('DynamoRoleStore', () => {
  test('raw items round trip, put replaces, get of a missing role is undefined', async () => {
    const store = new DynamoRoleStore({ client: doc, tableName: names.roles });
    const item = {
      allowed_kubernetes_namespaces: ['a', 'b'],
      token_max_ttl: '1h', // console edits may hold anything: stored as given
      extra_labels: { team: 'x' },
      rules: [{ verbs: ['get'], resources: ['pods'] }],
      revocable: false,
      empty: '',
      gone: undefined,
    };
    await store.put('rm', 'r1', item);
    expect(await store.get('rm', 'r1')).toEqual({
      mount: 'rm',
      name: 'r1',
      allowed_kubernetes_namespaces: ['a', 'b'],
      token_max_ttl: '1h',
      extra_labels: { team: 'x' },
      rules: [{ verbs: ['get'], resources: ['pods'] }],
      revocable: false,
      empty: '',
    });
    await store.put('rm', 'r1', { token_max_ttl: 600, mount: 'spoof' });
    expect(await store.get('rm', 'r1')).toEqual({ mount: 'rm', name: 'r1', token_max_ttl: 600 });
    expect(await store.get('rm', 'nope')).toBeUndefined();
    await store.delete('rm', 'r1');
    await store.delete('rm', 'r1');
    expect(await store.get('rm', 'r1')).toBeUndefined();
  }, SLOW);

  test('list is sorted and follows pages; deleteAll removes > 25 items of one mount only', async () => {
    const { client, commands } = countingClient();
    const store = new DynamoRoleStore({ client, tableName: names.roles, pageSize: 4 });
    const roleNames = Array.from({ length: 30 }, (_, i) => `role-${String(29 - i).padStart(2, '0')}`);
    await Promise.all(roleNames.map((n) => store.put('big', n, { n })));
    await store.put('other', 'keep', {});
    commands.length = 0;
    expect(await store.list('big')).toEqual([...roleNames].sort());
    expect(commands.filter((c) => c === 'QueryCommand').length).toBeGreaterThan(1);
    await store.deleteAll('big');
    expect(await store.list('big')).toEqual([]);
    expect(await store.list('other')).toEqual(['keep']);
    await store.deleteAll('empty-mount');
    client.destroy();
  }, SLOW);
});

describe('DynamoLeaseStore', () => {
  const base = Math.floor(Date.now() / 1000) + 100_000; // far from any TTL deletion
  let seq = 0;
  const lease = (over: Partial<Lease> & { mount?: string; role?: string } = {}): Lease => {
    const mount = over.mount ?? 'lm';
    const role = over.role ?? 'ci';
    const hash = `${(seq++).toString().padStart(4, '0')}${randomBytes(3).toString('hex')}`;
    return {
      lease_id: `${mount}/creds/${role}/${hash}`,
      lease_hash: hash,
      mount,
      role,
      namespace: 'default',
      caller_arn: 'arn:aws:sts::123456789012:assumed-role/ci/session',
      status: 'pending',
      issued_at: base - 3600,
      expires_at: base,
      service_account_name: `kl-${role}-${hash}`,
      plan: {
        objects: [
          { kind: 'Secret', namespace: 'default', name: `kl-${hash}` },
          { kind: 'ServiceAccount', namespace: 'default', name: `kl-${role}-${hash}` },
          { kind: 'Role', namespace: 'default', name: `kl-${role}-${hash}` },
          { kind: 'RoleBinding', namespace: 'default', name: `kl-${role}-${hash}` },
        ],
        token: {
          serviceAccount: { namespace: 'default', name: `kl-${role}-${hash}` },
          audiences: ['https://kubernetes.default.svc'],
          expirationSeconds: 3600,
          boundSecret: `kl-${hash}`,
        },
      },
      ...over,
    };
  };
  const store = new DynamoLeaseStore({ client: doc, tableName: names.leases });

  test('create stores the plan as a map with role_lease, and refuses a duplicate id with a conflict', async () => {
    const l = lease();
    await store.create(l);
    expect(await store.get(l.lease_id)).toEqual(l);
    const { Item } = await raw.send(new GetItemCommand({ TableName: names.leases, Key: { lease_id: { S: l.lease_id } }, ConsistentRead: true }));
    expect(Item?.plan?.M?.objects?.L).toHaveLength(4);
    expect(Item?.role_lease?.S).toBe(`ci#${l.lease_id}`);
    expect(Item?.expires_at?.N).toBe(String(base));

    const err = await store.create({ ...l, namespace: 'other' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeleaseError);
    expect((err as KubeleaseError).kind).toBe('conflict');
    expect((await store.get(l.lease_id))?.namespace).toBe('default');
    expect(await store.get('lm/creds/ci/missing')).toBeUndefined();
  }, SLOW);

  test('transition is conditional: pending→active succeeds once; missing leases are not created', async () => {
    const l = lease();
    await store.create(l);
    expect(await store.transition(l.lease_id, ['pending'], { status: 'active', expires_at: base + 60 })).toBe(true);
    expect(await store.transition(l.lease_id, ['pending'], { status: 'active', expires_at: base + 120 })).toBe(false);
    expect(await store.get(l.lease_id)).toEqual({ ...l, status: 'active', expires_at: base + 60 });
    expect(await store.transition(l.lease_id, ['pending', 'active'], { status: 'revoking' })).toBe(true);
    expect(await store.transition(l.lease_id, ['revoking'], {})).toBe(true);
    expect(await store.transition(l.lease_id, [], { status: 'active' })).toBe(false);
    expect((await store.get(l.lease_id))?.status).toBe('revoking');

    const ghost = 'lm/creds/ci/ghost';
    expect(await store.transition(ghost, ['pending', 'active', 'revoking'], { status: 'active' })).toBe(false);
    const { Item } = await raw.send(new GetItemCommand({ TableName: names.leases, Key: { lease_id: { S: ghost } }, ConsistentRead: true }));
    expect(Item).toBeUndefined();
  }, SLOW);

  test('concurrent pending→active transitions: exactly one wins', async () => {
    const l = lease();
    await store.create(l);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => store.transition(l.lease_id, ['pending'], { status: 'active', expires_at: base + i })),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  }, SLOW);

  test('concurrent deletes by two callers: exactly one true, every time', async () => {
    const leases = Array.from({ length: 10 }, () => lease());
    await Promise.all(leases.map((l) => store.create(l)));
    // two callers with their own connections, as two Lambdas would be
    const clients = [createDocumentClient(clientOptions), createDocumentClient(clientOptions)] as const;
    const a = new DynamoLeaseStore({ client: clients[0], tableName: names.leases });
    const b = new DynamoLeaseStore({ client: clients[1], tableName: names.leases });
    try {
      for (const l of leases) {
        const results = await Promise.all([a.delete(l.lease_id), b.delete(l.lease_id)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.get(l.lease_id)).toBeUndefined();
        expect(await store.delete(l.lease_id)).toBe(false);
      }
    } finally {
      clients.forEach((c) => c.destroy());
    }
  }, SLOW);

  describe('listByMount', () => {
    const mount = `lm-list-${randomBytes(3).toString('hex')}`;
    const ci: Lease[] = [];
    const ci2: Lease[] = [];
    const deploy: Lease[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 7; i++) ci.push(lease({ mount, role: 'ci', expires_at: base + 10 * i }));
      for (let i = 0; i < 3; i++) ci2.push(lease({ mount, role: 'ci2', expires_at: base + 10 * i + 5 }));
      for (let i = 0; i < 4; i++) deploy.push(lease({ mount, role: 'deploy', expires_at: base + 100 + i }));
      await Promise.all([...ci, ...ci2, ...deploy].map((l) => store.create(l)));
      await store.create(lease({ mount: `${mount}-other`, role: 'ci', expires_at: base - 1000 }));
    }, SLOW);
    const ids = (ls: Lease[]) => ls.map((l) => l.lease_id);
    const byRoleLease = (ls: Lease[]) => [...ls].sort((x, y) => (`${x.role}#${x.lease_id}` < `${y.role}#${y.lease_id}` ? -1 : 1));

    test('by role: begins_with <role># over several pages, not matching a longer role name', async () => {
      const { client, commands } = countingClient();
      const paged = new DynamoLeaseStore({ client, tableName: names.leases, pageSize: 2 });
      const got = await eventually(async () => {
        const r = await paged.listByMount(mount, { role: 'ci' });
        expect(r).toHaveLength(7);
        return r;
      });
      expect(ids(got)).toEqual(ids(byRoleLease(ci)));
      expect(got[0]).toEqual(byRoleLease(ci)[0]);
      commands.length = 0;
      await paged.listByMount(mount, { role: 'ci' });
      expect(commands.filter((c) => c === 'QueryCommand').length).toBeGreaterThanOrEqual(4);
      expect(ids(await paged.listByMount(mount, { role: 'ci2' }))).toEqual(ids(byRoleLease(ci2)));
      expect(await paged.listByMount(mount, { role: 'nobody' })).toEqual([]);
      client.destroy();
    }, SLOW);

    test('by expiredBefore: strict <, oldest first, over several pages, mount-scoped', async () => {
      const { client, commands } = countingClient();
      const paged = new DynamoLeaseStore({ client, tableName: names.leases, pageSize: 2 });
      const cutoff = base + 30; // ci 0..2 (0,10,20) and ci2 0..2 (5,15,25); ci[3] at +30 excluded
      const want = [...ci.slice(0, 3), ...ci2].sort((x, y) => x.expires_at - y.expires_at);
      const got = await eventually(async () => {
        const r = await paged.listByMount(mount, { expiredBefore: cutoff });
        expect(r).toHaveLength(6);
        return r;
      });
      expect(ids(got)).toEqual(ids(want));
      commands.length = 0;
      await paged.listByMount(mount, { expiredBefore: cutoff });
      expect(commands.filter((c) => c === 'QueryCommand').length).toBeGreaterThanOrEqual(3);
      expect(await paged.listByMount(mount, { expiredBefore: base })).toEqual([]);
      client.destroy();
    }, SLOW);

    test('role and expiredBefore together, limit across pages, and all leases of a mount', async () => {
      const paged = new DynamoLeaseStore({ client: doc, tableName: names.leases, pageSize: 2 });
      expect(ids(await paged.listByMount(mount, { role: 'ci', expiredBefore: base + 30 }))).toEqual(ids(byRoleLease(ci.slice(0, 3))));
      const limited = await paged.listByMount(mount, { expiredBefore: base + 1000, limit: 5 });
      expect(limited.map((l) => l.expires_at)).toEqual([0, 5, 10, 15, 20].map((d) => base + d));
      expect(await paged.listByMount(mount, { role: 'ci', expiredBefore: base + 1000, limit: 3 })).toHaveLength(3);
      expect(await paged.listByMount(mount, { limit: 0 })).toEqual([]);
      const all = await paged.listByMount(mount);
      expect(ids(all)).toEqual(ids(byRoleLease([...ci, ...ci2, ...deploy])));
      // an active lease moves in the expiry index when its expiry changes
      const moved = deploy[0]!;
      expect(await store.transition(moved.lease_id, ['pending'], { status: 'active', expires_at: base - 5 })).toBe(true);
      await eventually(async () => expect(ids(await paged.listByMount(mount, { expiredBefore: base }))).toEqual([moved.lease_id]));
    }, SLOW);
  });

  test('leaseFromImage round-trips the OLD_IMAGE of a REMOVE stream record', async () => {
    // empty maps (labels/annotations) and an empty list (audiences) must survive the image
    const l0 = lease({ role: 'stream' });
    const l: Lease = { ...l0, plan: { ...l0.plan, token: { ...l0.plan.token, audiences: [] } } };
    await store.create(l);
    expect(await store.transition(l.lease_id, ['pending'], { status: 'active', expires_at: base + 7 })).toBe(true);
    expect(await store.delete(l.lease_id)).toBe(true);

    const streams = new DynamoDBStreamsClient(clientOptions);
    try {
      const { Table } = await raw.send(new DescribeTableCommand({ TableName: names.leases }));
      const streamArn = Table?.LatestStreamArn;
      expect(streamArn).toBeDefined();
      const record = await eventually(
        async () => {
          const found = await findRemove(streams, streamArn!, l.lease_id);
          if (!found) throw new Error(`no REMOVE record for ${l.lease_id} yet`);
          return found;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(record.dynamodb?.StreamViewType).toBe('OLD_IMAGE');
      expect(record.dynamodb?.NewImage).toBeUndefined();
      const image = record.dynamodb?.OldImage;
      expect(image).toBeDefined();
      expect(leaseFromImage(image!)).toEqual({ ...l, status: 'active', expires_at: base + 7 });
    } finally {
      streams.destroy();
    }
  }, SLOW);

  test('leaseFromImage reads untyped empty collections ({}, as DynamoDB Local 3.x streams send them)', () => {
    const l = lease();
    const image = {
      lease_id: { S: l.lease_id },
      lease_hash: { S: l.lease_hash },
      mount: { S: l.mount },
      role: { S: l.role },
      namespace: { S: l.namespace },
      caller_arn: { S: l.caller_arn },
      status: { S: 'active' },
      issued_at: { N: String(l.issued_at) },
      expires_at: { N: String(l.expires_at) },
      service_account_name: { S: l.service_account_name },
      role_lease: { S: `ci#${l.lease_id}` },
      plan: {
        M: {
          objects: {
            L: [
              {
                M: {
                  kind: { S: 'Role' },
                  namespace: { S: 'default' },
                  name: { S: 'r' },
                  labels: {},
                  annotations: { M: {} },
                  rules: { L: [{ M: { verbs: { L: [{ S: 'get' }] }, resourceNames: {} } }] },
                },
              },
            ],
          },
          token: { M: { serviceAccount: { M: { namespace: { S: 'default' }, name: { S: 'sa' } } }, audiences: {}, expirationSeconds: { N: '600' } } },
        },
      },
    };
    // `{}` is not a valid AttributeValue in the SDK's types, but it is what arrives
    // an item written before plans were compacted: its objects are read as references
    expect(leaseFromImage(image as unknown as Record<string, AttributeValue>).plan).toEqual({
      objects: [{ kind: 'Role', namespace: 'default', name: 'r' }],
      token: { serviceAccount: { namespace: 'default', name: 'sa' }, audiences: [], expirationSeconds: 600 },
    });
  });

  test('the stored plan keeps references only, whatever the caller passed; a bad stored object is a 422', async () => {
    const l = lease({ role: 'compact' });
    const full = {
      ...l,
      plan: { ...l.plan, objects: l.plan.objects.map((o) => ({ ...o, labels: { big: 'x'.repeat(1000) }, annotations: { note: 'y'.repeat(1000) } })) },
    };
    await store.create(full);
    const { Item } = await raw.send(new GetItemCommand({ TableName: names.leases, Key: { lease_id: { S: l.lease_id } }, ConsistentRead: true }));
    expect(JSON.stringify(Item)).not.toContain('x'.repeat(1000));
    expect(Item?.plan?.M?.objects?.L?.[1]?.M).toEqual({ kind: { S: 'ServiceAccount' }, namespace: { S: 'default' }, name: { S: `kl-compact-${l.lease_hash}` } });
    expect(await store.get(l.lease_id)).toEqual(l);
    const broken = leaseFromImage.bind(null, {
      ...(await raw.send(new GetItemCommand({ TableName: names.leases, Key: { lease_id: { S: l.lease_id } } }))).Item!,
      plan: { M: { objects: { L: [{ M: { kind: { S: 'Pod' }, name: { S: 'p' } } }] }, token: { M: {} } } },
    });
    expect(broken).toThrow(/plan.objects\[0\].kind/);
    try {
      broken();
    } catch (e) {
      expect((e as KubeleaseError).status).toBe(422);
    }
  }, SLOW);

  test('leaseFromImage refuses an image that is not a lease', () => {
    expect(() => leaseFromImage({ lease_id: { S: 'x' }, status: { S: 'weird' } })).toThrow(KubeleaseError);
    expect(() => leaseFromImage({ lease_id: { S: 'x' }, status: { S: 'active' }, plan: { M: { objects: { S: 'no' } } } })).toThrow(/plan.objects/);
    expect(() =>
      leaseFromImage({
        lease_id: { S: 'x' },
        status: { S: 'active' },
        plan: { M: { objects: { L: [] }, token: { M: {} } } },
      }),
    ).toThrow(/plan.token.serviceAccount/);
    const token = { M: { serviceAccount: { M: { namespace: { S: 'default' }, name: { S: 'sa' } } }, audiences: { L: [] }, expirationSeconds: { N: '600' } } };
    expect(() =>
      leaseFromImage({
        lease_id: { S: 'x' },
        status: { S: 'active' },
        plan: { M: { objects: { L: [] }, token } },
        expires_at: { S: 'not a number' },
      }),
    ).toThrow(/expires_at|lease_hash/);
  }, SLOW);
});

async function findRemove(streams: DynamoDBStreamsClient, streamArn: string, leaseId: string): Promise<StreamRecord | undefined> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  for (const shard of StreamDescription?.Shards ?? []) {
    let iterator = (
      await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    // follow the shard until it stops returning records
    for (let i = 0; iterator && i < 100; i++) {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const hit = (out.Records ?? []).find((r) => r.eventName === 'REMOVE' && r.dynamodb?.Keys?.lease_id?.S === leaseId);
      if (hit) return hit;
      if (!out.Records?.length) break;
      iterator = out.NextShardIterator;
    }
  }
  return undefined;
}
