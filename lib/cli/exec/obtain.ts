/**
 * The exec plugin's miss path, also used by `kubeconfig --exec` to warm the cache: read the
 * cache, take the per-key lock, re-check under it, issue, write atomically. A failed refresh
 * serves the cached token while it has more than 30 s left, with a warning.
 */
import { credsBody } from '../core/creds-request.js';
import { errorLine } from '../core/errors.js';
import type { Broker, Envelope, CredsData } from '../client/broker.js';
import { isFresh, isUsableFallback } from '../cache/policy.js';
import { acquireLock } from '../cache/lock.js';
import { cacheDir, checkDir, lockPath, readEntry, writeEntry, type CacheEntry } from '../cache/store.js';
import type { ExecRequest } from './request.js';

/** longer than a holder can take: credentials plus two requests (a clock-skew retry) of 60 s */
export const LOCK_TIMEOUT_MS = 150_000;
/** a live holder on this host is waited for; this age breaks a lock whose holder cannot be checked */
export const LOCK_STALE_MS = 300_000;
const LOCK_POLL_MS = 40;

export interface ObtainOptions {
  env: NodeJS.ProcessEnv;
  force: boolean;
  broker: () => Broker;
  warn: (message: string) => void;
  now?: () => number;
}

const lifetime = (e: CacheEntry) => ({ issuedAtMs: e.issued_at, expiresAtMs: e.expires_at });

export function entryFrom(res: Envelope<CredsData>, issuedAtMs: number): CacheEntry {
  return {
    v: 1,
    token: res.data.service_account_token,
    issued_at: issuedAtMs,
    expires_at: issuedAtMs + res.lease_duration * 1000,
    lease_id: res.lease_id,
    namespace: res.data.service_account_namespace,
    service_account: res.data.service_account_name,
    kubernetes_host: res.data.kubernetes_host ?? '',
    kubernetes_ca_cert: res.data.kubernetes_ca_cert ?? '',
  };
}

export async function obtainCredential(req: ExecRequest, o: ObtainOptions): Promise<CacheEntry> {
  const now = o.now ?? Date.now;
  const issue = async (): Promise<CacheEntry> => {
    const started = now();
    const res = await o.broker().creds(req.mount, req.role, credsBody(req));
    for (const w of res.warnings ?? []) o.warn(`broker: ${w}`);
    return entryFrom(res, started);
  };

  const dir = cacheDir(o.env);
  const dirProblem = checkDir(dir, true);
  if (dirProblem) {
    o.warn(`${dirProblem}: not using the token cache; fix: chmod 700 ${dir} (or set KUBECACHEDIR to a private directory)`);
    return issue();
  }
  const read = (quiet = false) => {
    const r = readEntry(dir, req.key);
    if (r.kind === 'refused' && !quiet) o.warn(r.warning);
    return r.kind === 'entry' ? r.entry : undefined;
  };
  let cached = read();
  if (cached && !o.force && isFresh(lifetime(cached), now())) return cached;

  const lock = await acquireLock<CacheEntry>(lockPath(dir, req.key), {
    timeoutMs: LOCK_TIMEOUT_MS,
    staleMs: LOCK_STALE_MS,
    pollMs: LOCK_POLL_MS,
    check: () => {
      if (o.force) return undefined;
      const r = readEntry(dir, req.key);
      return r.kind === 'entry' && isFresh(lifetime(r.entry), now()) ? r.entry : undefined;
    },
  });
  if (lock.kind === 'resolved') return lock.value;
  if (lock.kind === 'timeout') o.warn(`waited ${LOCK_TIMEOUT_MS / 1000} s for another kubelease to refresh this token; issuing without the lock`);
  try {
    if (lock.kind === 'acquired') {
      cached = read(true) ?? cached;
      if (cached && !o.force && isFresh(lifetime(cached), now())) return cached;
    }
    let fresh: CacheEntry;
    try {
      fresh = await issue();
    } catch (e) {
      if (cached && isUsableFallback(lifetime(cached), now())) {
        const left = Math.round((cached.expires_at - now()) / 1000);
        o.warn(`could not refresh the token (${errorLine(e).replace(/^kubelease: /, '')}); serving the cached one, which expires in ${left} s`);
        return cached;
      }
      throw e;
    }
    try {
      writeEntry(dir, req.key, fresh);
    } catch (e) {
      o.warn(`could not write the token cache in ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}): the next call issues again`);
    }
    return fresh;
  } finally {
    if (lock.kind === 'acquired') lock.release();
  }
}
