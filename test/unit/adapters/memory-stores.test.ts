import {
  FixedClock,
  MemoryAudit,
  MemoryConfigStore,
  MemoryLeaseStore,
  MemoryRoleStore,
  SeqIds,
} from '../../../lib/adapters/memory/index.js';
import { randomIds } from '../../../lib/adapters/random-ids.js';
import { leaseFixture } from '../../support/fixtures.js';
import { configStoreContract, leaseStoreContract, roleStoreContract } from '../../support/store-contracts.js';

/** The ports' contracts (test/support/store-contracts.ts); DynamoDB runs the same ones in the integration project. */
const fresh = <S>(store: S) => ({ store, mount: (name: string) => name, owns: () => true });
leaseStoreContract('memory', () => fresh(new MemoryLeaseStore()));
configStoreContract('memory', () => fresh(new MemoryConfigStore()));
roleStoreContract('memory', () => fresh(new MemoryRoleStore()));

describe('MemoryLeaseStore (test double only)', () => {
  test('failNext injects one failure into one method', async () => {
    const s = new MemoryLeaseStore();
    s.failNext('create', new Error('boom'));
    await expect(s.create(leaseFixture('a'))).rejects.toThrow('boom');
    await s.create(leaseFixture('a'));
    expect(s.items.size).toBe(1);
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
