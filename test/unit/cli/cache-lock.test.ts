/** The per-key lock: exclusive, waits and re-checks, breaks stale locks, bounded. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireLock } from '../../../lib/cli/cache/lock.js';

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kl-lock-'));
  lock = path.join(dir, 'k.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const opts = { timeoutMs: 2_000, staleMs: 60_000, pollMs: 10 };

/** a pid that surely is not running: a child that has exited */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('acquireLock', () => {
  it('is exclusive until released, and release removes the file', async () => {
    const a = await acquireLock(lock, opts);
    expect(a.kind).toBe('acquired');
    const b = await acquireLock(lock, { ...opts, timeoutMs: 100 });
    expect(b.kind).toBe('timeout');
    if (a.kind === 'acquired') a.release();
    expect(existsSync(lock)).toBe(false);
    const c = await acquireLock(lock, opts);
    expect(c.kind).toBe('acquired');
    if (c.kind === 'acquired') c.release();
  });

  it('ends the wait when the check finds what the holder produced', async () => {
    const a = await acquireLock(lock, opts);
    let produced: string | undefined;
    setTimeout(() => (produced = 'fresh entry'), 50);
    const b = await acquireLock(lock, { ...opts, check: () => produced });
    expect(b).toEqual({ kind: 'resolved', value: 'fresh entry' });
    if (a.kind === 'acquired') a.release();
  });

  it('takes over once the holder releases', async () => {
    const a = await acquireLock(lock, opts);
    setTimeout(() => a.kind === 'acquired' && a.release(), 50);
    const b = await acquireLock(lock, opts);
    expect(b.kind).toBe('acquired');
    if (b.kind === 'acquired') b.release();
  });

  it('breaks a lock whose holder process is gone', async () => {
    writeFileSync(lock, JSON.stringify({ pid: deadPid(), host: os.hostname(), nonce: 'dead' }), { mode: 0o600 });
    const t = Date.now();
    const b = await acquireLock(lock, opts);
    expect(b.kind).toBe('acquired');
    expect(Date.now() - t).toBeLessThan(1_000);
    if (b.kind === 'acquired') b.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('breaks a lock older than staleMs even if its holder lives', async () => {
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: 'old' }), { mode: 0o600 });
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    const b = await acquireLock(lock, opts);
    expect(b.kind).toBe('acquired');
    if (b.kind === 'acquired') b.release();
  });

  it('keeps a live lock of this process and times out', async () => {
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: 'live' }), { mode: 0o600 });
    expect((await acquireLock(lock, { ...opts, timeoutMs: 150 })).kind).toBe('timeout');
    expect(existsSync(lock)).toBe(true);
  });

  it('does not remove a lock it no longer holds', async () => {
    const a = await acquireLock(lock, opts);
    // someone broke ours as stale and took it
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: 'theirs' }), { mode: 0o600 });
    if (a.kind === 'acquired') a.release();
    expect(existsSync(lock)).toBe(true);
  });
});
