/**
 * The exec plugin's disk cache: `$KUBECACHEDIR/kubelease` (default `~/.kube/cache/kubelease`),
 * directory 0700, one 0600 JSON file per key. A directory or file that other users could read
 * or write, that is not ours, or that is not a plain file is refused with a warning; a corrupt
 * file is ignored with a warning. Built-ins only: this runs on the cache-hit path.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import type { CacheKey } from './key.js';

export interface CacheEntry {
  v: 1;
  token: string;
  /** epoch ms */
  issued_at: number;
  expires_at: number;
  lease_id: string;
  namespace: string;
  service_account: string;
  kubernetes_host: string;
  kubernetes_ca_cert: string;
}

export type ReadResult = { kind: 'absent' } | { kind: 'entry'; entry: CacheEntry } | { kind: 'refused'; warning: string };

export function cacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.KUBECACHEDIR || path.join(env.HOME || os.homedir(), '.kube', 'cache');
  return path.join(base, 'kubelease');
}

const uid = () => (typeof process.getuid === 'function' ? process.getuid() : -1);
const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** undefined when the directory is usable (creating it 0700 if missing), else why not. */
export function checkDir(dir: string, create: boolean): string | undefined {
  let st;
  try {
    st = lstatSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `cache directory ${dir} cannot be used (${code ?? String(e)})`;
    if (!create) return `cache directory ${dir} is missing`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      st = lstatSync(dir);
    } catch (err) {
      return `cache directory ${dir} cannot be created (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
  }
  if (!st.isDirectory()) return `cache directory ${dir} is not a directory`;
  if (uid() >= 0 && st.uid !== uid()) return `cache directory ${dir} belongs to uid ${st.uid}, not to you`;
  if (st.mode & 0o077) return `cache directory ${dir} has mode ${octal(st.mode)} (group/other bits set)`;
  return undefined;
}

export const entryPath = (dir: string, key: CacheKey) => path.join(dir, `${key.id}.json`);
export const lockPath = (dir: string, key: CacheKey) => path.join(dir, `${key.id}.lock`);

export function readEntry(dir: string, key: CacheKey): ReadResult {
  const file = entryPath(dir, key);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'refused', warning: `cache file ${file} cannot be opened (${code ?? 'error'}): ignored` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'refused', warning: `cache file ${file} is not a regular file: ignored` };
    if (uid() >= 0 && st.uid !== uid()) return { kind: 'refused', warning: `cache file ${file} belongs to uid ${st.uid}, not to you: ignored` };
    if (st.mode & 0o077) return { kind: 'refused', warning: `cache file ${file} has mode ${octal(st.mode)} (group/other bits set): ignored` };
    const stored = parseEntry(readFileSync(fd, 'utf8'));
    if (!stored) return { kind: 'refused', warning: `cache file ${file} is corrupt: ignored` };
    if (stored.key !== key.material) return { kind: 'absent' }; // another key with the same hash
    const { key: _key, ...entry } = stored;
    return { kind: 'entry', entry };
  } finally {
    closeSync(fd);
  }
}

type StoredEntry = CacheEntry & { key: string };

function parseEntry(text: string): StoredEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const e = v as Record<string, unknown>;
  const strings = ['key', 'token', 'lease_id', 'namespace', 'service_account', 'kubernetes_host', 'kubernetes_ca_cert'];
  if (e.v !== 1 || strings.some((k) => typeof e[k] !== 'string') || e.token === '') return undefined;
  if (!Number.isFinite(e.issued_at) || !Number.isFinite(e.expires_at) || (e.expires_at as number) <= (e.issued_at as number)) return undefined;
  return e as unknown as StoredEntry;
}

export function writeEntry(dir: string, key: CacheKey, entry: CacheEntry): void {
  const stored: StoredEntry = { ...entry, key: key.material };
  writeFileAtomic(entryPath(dir, key), `${JSON.stringify(stored)}\n`, 0o600);
}
