/** The agent's renew loop against a manual clock: refresh point, backoff, fatal expiry. */
import { Renewer, type Timers } from '../../../lib/cli/agent/renewer.js';
import { CliError } from '../../../lib/cli/core/errors.js';
import type { Issued } from '../../../lib/cli/agent/types.js';

class ManualTimers implements Timers {
  t = 0;
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  now = () => this.t;
  set = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  };
  clear = (h: unknown) => void this.pending.delete(h as number);
  /** delays of the pending timers, soonest first */
  delays(): number[] {
    return [...this.pending.values()].map((p) => p.at - this.t).sort((a, b) => a - b);
  }
  /** runs the next timer and lets its promise chain settle */
  async next(): Promise<void> {
    const [id, p] = [...this.pending.entries()].sort((a, b) => a[1].at - b[1].at)[0]!;
    this.pending.delete(id);
    this.t = p.at;
    p.fn();
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
}

function issued(n: number, now: number, leaseSeconds = 600): Issued {
  return { leaseId: `lease-${n}`, token: `t${n}`, leaseSeconds, issuedAtMs: now, expiresAtMs: now + leaseSeconds * 1000, namespace: 'd', serviceAccount: 's', server: 'https://k', caPem: '' };
}

function setup(outcomes: ('ok' | 'fail')[], refreshAfterMs?: number) {
  const timers = new ManualTimers();
  const delivered: string[] = [];
  const logs: string[] = [];
  const fatal: Error[] = [];
  let n = 0;
  const r = new Renewer({
    name: 'web',
    issue: async () => {
      const o = outcomes[n++] ?? 'fail';
      if (o === 'fail') throw new CliError('cannot reach the broker at http://127.0.0.1:1 (ECONNREFUSED)', 1, 'check');
      return issued(n, timers.now());
    },
    deliver: async (i) => void delivered.push(i.token),
    onFatal: (e) => fatal.push(e),
    log: (l) => logs.push(l),
    timers,
    random: () => 0.5,
    refreshAfterMs,
  });
  return { r, timers, delivered, logs, fatal };
}

describe('Renewer', () => {
  it('refreshes at 75 % of the lease (random 0.5) and delivers each token', async () => {
    const { r, timers, delivered } = setup(['ok', 'ok']);
    await r.start();
    expect(delivered).toEqual(['t1']);
    expect(timers.delays()).toEqual([450_000, 600_000]); // refresh, expiry watch
    await timers.next();
    expect(delivered).toEqual(['t1', 't2']);
    expect(r.current?.leaseId).toBe('lease-2');
    expect(r.issued.map((i) => i.leaseId)).toEqual(['lease-1', 'lease-2']);
    r.stop();
  });

  it('uses the test knob for the refresh point', async () => {
    const { r, timers } = setup(['ok'], 1_500);
    await r.start();
    expect(timers.delays()[0]).toBe(1_500);
    r.stop();
  });

  it('backs off 1 s, 2 s, 4 s after failures and recovers', async () => {
    const { r, timers, delivered, logs } = setup(['ok', 'fail', 'fail', 'fail', 'ok']);
    await r.start();
    await timers.next(); // refresh at 450 s fails
    expect(timers.delays()[0]).toBe(1_000);
    await timers.next();
    expect(timers.delays()[0]).toBe(2_000);
    await timers.next();
    expect(timers.delays()[0]).toBe(4_000);
    await timers.next();
    expect(delivered).toEqual(['t1', 't5']); // the fifth issuance succeeded
    expect(logs.some((l) => l.includes('refresh failed (cannot reach the broker at http://127.0.0.1:1 (ECONNREFUSED); fix: check); retrying in 1.0 s'))).toBe(true);
    r.stop();
  });

  it('gives up once the token expired without a successor, naming the last error', async () => {
    const { r, timers, fatal } = setup(['ok']);
    await r.start();
    for (let i = 0; i < 200 && fatal.length === 0; i++) await timers.next();
    expect(timers.now()).toBe(600_000);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.message).toBe('web: the token expired at 1970-01-01T00:10:00Z and no new one could be issued (last error: cannot reach the broker at http://127.0.0.1:1 (ECONNREFUSED); fix: check)');
    expect(timers.delays()).toEqual([]);
  });

  it('never waits longer than a third of the remaining time', async () => {
    const { r, timers } = setup(['ok']);
    await r.start();
    await timers.next(); // first failure at 450 s: 150 s left
    for (let i = 0; i < 12; i++) {
      const remaining = 600_000 - timers.now();
      const d = timers.delays()[0]!;
      expect(d).toBeLessThanOrEqual(Math.max(250, remaining / 3));
      await timers.next();
    }
    r.stop();
  });
});
