/**
 * A per-key lock file for the exec plugin's miss path, so that parallel kubectl calls make one
 * issuance: created with O_EXCL (0600) holding the owner's pid and host; waiters poll with a
 * bounded timeout, re-check the cache while they wait (the holder's fresh entry ends the wait),
 * and break a stale lock (its holder is gone, or it is older than `staleMs`).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';

export interface LockOptions<T> {
  /** give up waiting after this long (then the caller proceeds without the lock) */
  timeoutMs: number;
  /** a lock older than this is stale whoever holds it */
  staleMs: number;
  pollMs: number;
  /** called between polls: a value ends the wait (e.g. the holder wrote a fresh entry) */
  check?: () => T | undefined;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type LockResult<T> =
  | { kind: 'acquired'; release: () => void }
  | { kind: 'resolved'; value: T }
  | { kind: 'timeout' };

interface Holder {
  pid: number;
  host: string;
  nonce: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tryCreate(file: string): (() => void) | undefined {
  const holder: Holder = { pid: process.pid, host: os.hostname(), nonce: randomBytes(8).toString('hex') };
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return () => {
    // only our own lock: a waiter may have broken it as stale and another one taken it since
    if (readHolder(file)?.nonce === holder.nonce) rmSync(file, { force: true });
  };
}

function readHolder(file: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    return typeof h.pid === 'number' && typeof h.nonce === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stale: held by a dead process on this host, or older than `staleMs` (a holder on another host
 * sharing the directory, a half-written lock, or a pid reused after a crash). Returns the holder
 * it judged (undefined for an unreadable one), or false.
 */
export function staleLock(file: string, staleMs: number, nowMs: number): { holder: Holder | undefined } | false {
  let mtime: number;
  try {
    mtime = statSync(file).mtimeMs;
  } catch {
    return false; // gone: the next create attempt tells
  }
  const holder = readHolder(file);
  if (holder !== undefined && holder.host === os.hostname() && !alive(holder.pid)) return { holder };
  return nowMs - mtime > staleMs ? { holder } : false;
}

/**
 * Moves a stale lock aside; if what was moved is not the lock judged stale (it was replaced in
 * between), puts it back. Then removes it.
 */
function breakLock(file: string, judged: Holder | undefined): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch {
    return;
  }
  const moved = readHolder(aside);
  if (judged && moved && moved.nonce !== judged.nonce) {
    try {
      linkSync(aside, file);
    } catch {
      /* someone holds it again: theirs wins */
    }
  }
  rmSync(aside, { force: true });
}

export async function acquireLock<T>(file: string, o: LockOptions<T>): Promise<LockResult<T>> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? defaultSleep;
  const deadline = now() + o.timeoutMs;
  for (;;) {
    const release = tryCreate(file);
    if (release) return { kind: 'acquired', release };
    const value = o.check?.();
    if (value !== undefined) return { kind: 'resolved', value };
    const stale = staleLock(file, o.staleMs, now());
    if (stale) {
      breakLock(file, stale.holder);
      continue;
    }
    if (now() >= deadline) return { kind: 'timeout' };
    // jitter keeps twenty waiters from polling in lock step
    await sleep(o.pollMs * (0.5 + Math.random()));
  }
}
