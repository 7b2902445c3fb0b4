import { KubeleaseError } from '../../../lib/domain/errors.js';
import type { ClusterConfig, Lease } from '../../../lib/domain/types.js';
import {
  FixedClock,
  MemoryAudit,
  MemoryConfigStore,
  MemoryLeaseStore,
  MemoryRoleStore,
  SeqIds,
} from '../../../lib/adapters/memory/index.js';
import { randomIds } from '../../../lib/adapters/random-ids.js';

const lease = (id: string, over: Partial<Lease> = {}): Lease => ({
  lease_id: `m1/creds/${over.role ?? 'ci'}/${id}`,
  lease_hash: id,
  mount: 'm1',
  role: 'ci',
  namespace: 'default',
  caller_arn: 'arn:aws:iam::123456789012:role/ci',
  status: 'pending',
  issued_at: 1000,
  expires_at: 2000,
  service_account_name: `kl-ci-${id}`,
  plan: {
    objects: [{ kind: 'ServiceAccount', namespace: 'default', name: `kl-ci-${id}` }],
    token: { serviceAccount: { namespace: 'default', name: `kl-ci-${id}` }, audiences: [], expirationSeconds: 600 },
  },
  ...over,
});

describe('MemoryLeaseStore', () => {
  test('create refuses a duplicate id with a conflict', async () => {
    const s = new MemoryLeaseStore();
    await s.create(lease('a'));
    const err = await s.create(lease('a', { namespace: 'other' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeleaseError);
    expect((err as KubeleaseError).kind).toBe('conflict');
    expect((await s.get(lease('a').lease_id))?.namespace).toBe('default');
  });

  test('transition is conditional on the current status and on existence', async () => {
    const s = new MemoryLeaseStore();
    const id = lease('a').lease_id;
    await s.create(lease('a'));
    expect(await s.transition(id, ['pending'], { status: 'active', expires_at: 5000 })).toBe(true);
    expect(await s.transition(id, ['pending'], { status: 'active', expires_at: 6000 })).toBe(false);
    expect(await s.get(id)).toMatchObject({ status: 'active', expires_at: 5000 });
    expect(await s.transition(id, ['pending', 'active'], { status: 'revoking' })).toBe(true);
    expect(await s.transition(id, [], { status: 'active' })).toBe(false);
    expect(await s.transition('nope', ['pending', 'active', 'revoking'], { status: 'active' })).toBe(false);
    expect((await s.get(id))?.status).toBe('revoking');
  });

  test('delete is conditional: exactly one of concurrent deletes wins', async () => {
    const s = new MemoryLeaseStore();
    await s.create(lease('a'));
    const results = await Promise.all([s.delete(lease('a').lease_id), s.delete(lease('a').lease_id)]);
    expect(results.sort()).toEqual([false, true]);
    expect(await s.get(lease('a').lease_id)).toBeUndefined();
    // a deleted id may be created again
    await s.create(lease('a'));
  });

  test('values are copies: mutating what was given or returned does not change the store', async () => {
    const s = new MemoryLeaseStore();
    const l = lease('a');
    await s.create(l);
    l.status = 'active';
    l.plan.objects[0]!.name = 'changed';
    const got = (await s.get(l.lease_id))!;
    expect(got.status).toBe('pending');
    expect(got.plan.objects[0]!.name).toBe('kl-ci-a');
    got.namespace = 'x';
    expect((await s.get(l.lease_id))!.namespace).toBe('default');
  });

  test('listByMount filters by mount, role, expiredBefore and limit, ordered like the GSIs', async () => {
    const s = new MemoryLeaseStore();
    await s.create(lease('c', { role: 'ci', expires_at: 300 }));
    await s.create(lease('a', { role: 'ci', expires_at: 100 }));
    await s.create(lease('b', { role: 'deploy', expires_at: 200 }));
    await s.create(lease('d', { role: 'ci2', expires_at: 50 }));
    await s.create(lease('e', { mount: 'm2', lease_id: 'm2/creds/ci/e', expires_at: 1 }));
    const ids = (ls: Lease[]) => ls.map((l) => l.lease_hash);
    expect(ids(await s.listByMount('m1'))).toEqual(['a', 'c', 'd', 'b']); // by role#lease_id
    expect(ids(await s.listByMount('m1', { role: 'ci' }))).toEqual(['a', 'c']); // not ci2
    expect(ids(await s.listByMount('m1', { expiredBefore: 300 }))).toEqual(['d', 'a', 'b']); // oldest first, strict <
    expect(ids(await s.listByMount('m1', { role: 'ci', expiredBefore: 300 }))).toEqual(['a']);
    expect(ids(await s.listByMount('m1', { expiredBefore: 1000, limit: 2 }))).toEqual(['d', 'a']);
    expect(await s.listByMount('m1', { limit: 0 })).toEqual([]);
    expect(ids(await s.listByMount('m2'))).toEqual(['e']);
    expect(await s.listByMount('nope')).toEqual([]);
  });

  test('failNext injects one failure into one method', async () => {
    const s = new MemoryLeaseStore();
    s.failNext('create', new Error('boom'));
    await expect(s.create(lease('a'))).rejects.toThrow('boom');
    await s.create(lease('a'));
    expect(s.items.size).toBe(1);
  });
});

describe('MemoryConfigStore', () => {
  const jwtConfig = (mount: string): ClusterConfig => ({
    mount,
    kubernetes_host: 'https://127.0.0.1:6443',
    kubernetes_ca_cert: 'PEM',
    disable_local_ca_jwt: false,
    auth: { kind: 'service_account_jwt', service_account_jwt: 'jwt' },
  });

  test('put replaces the whole config, get copies, list sorted, delete idempotent', async () => {
    const s = new MemoryConfigStore();
    await s.put(jwtConfig('zeta'));
    await s.put(jwtConfig('alpha'));
    await s.put({ ...jwtConfig('alpha'), auth: { kind: 'eks', eks_cluster_name: 'c', eks_region: 'eu-west-1', role_arn: undefined } });
    expect(await s.list()).toEqual(['alpha', 'zeta']);
    const got = (await s.get('alpha'))!;
    expect(got.auth).toEqual({ kind: 'eks', eks_cluster_name: 'c', eks_region: 'eu-west-1' });
    expect('role_arn' in got.auth).toBe(false); // undefined attributes are dropped, as in DynamoDB
    got.kubernetes_host = 'changed';
    expect((await s.get('alpha'))!.kubernetes_host).toBe('https://127.0.0.1:6443');
    await s.delete('alpha');
    await s.delete('alpha');
    expect(await s.get('alpha')).toBeUndefined();
    expect(await s.list()).toEqual(['zeta']);
  });
});

describe('MemoryRoleStore', () => {
  test('raw items with key attributes; put replaces; list sorted per mount; deleteAll scoped to a mount', async () => {
    const s = new MemoryRoleStore();
    await s.put('m1', 'b', { token_max_ttl: 600, extra: { x: 1 } });
    await s.put('m1', 'a', { token_max_ttl: 'oops' });
    await s.put('m2', 'a', { token_max_ttl: 1 });
    await s.put('m1', 'b', { allowed_kubernetes_namespaces: ['x'], mount: 'spoof', name: 'spoof' });
    expect(await s.get('m1', 'b')).toEqual({ mount: 'm1', name: 'b', allowed_kubernetes_namespaces: ['x'] });
    expect(await s.get('m1', 'a')).toEqual({ mount: 'm1', name: 'a', token_max_ttl: 'oops' });
    expect(await s.list('m1')).toEqual(['a', 'b']);
    await s.delete('m1', 'a');
    await s.delete('m1', 'a');
    expect(await s.list('m1')).toEqual(['b']);
    await s.deleteAll('m1');
    expect(await s.list('m1')).toEqual([]);
    expect(await s.list('m2')).toEqual(['a']);
  });
});

describe('clock, ids, audit', () => {
  test('FixedClock moves only when told', () => {
    const c = new FixedClock('2030-01-01T00:00:00Z');
    expect(c.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
    c.advance(90);
    expect(c.epoch()).toBe(Date.parse('2030-01-01T00:01:30Z') / 1000);
    c.set(0);
    expect(c.now().getTime()).toBe(0);
    expect(() => new FixedClock('not a date')).toThrow();
  });

  test('SeqIds is predictable, RandomIds is [a-z0-9] of the asked length', () => {
    const s = new SeqIds();
    expect(s.peek(5)).toBe('00001');
    expect([s.random(5), s.random(5), s.random(2)]).toEqual(['00001', '00002', '03']);
    const r = randomIds;
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const v = r.random(8);
      expect(v).toMatch(/^[a-z0-9]{8}$/);
      seen.add(v);
    }
    expect(seen.size).toBe(100);
  });

  test('MemoryAudit collects copies of events', () => {
    const a = new MemoryAudit();
    const ev = { action: 'creds.issue', outcome: 'success' as const, mount: 'm1' };
    a.record(ev);
    ev.mount = 'changed';
    a.record({ action: 'lease.revoke', outcome: 'denied' });
    expect(a.find('creds.issue')).toEqual([{ action: 'creds.issue', outcome: 'success', mount: 'm1' }]);
    expect(a.events).toHaveLength(2);
    a.clear();
    expect(a.events).toEqual([]);
  });
});
