/**
 * The exec plugin's cache key: everything that changes which token the broker would hand out
 * (address, mount, role, namespace, ttl, audiences, cluster-wide binding) and who asks. The
 * file name is a 64-bit FNV-1a hash of it — no node:crypto on the cache-hit path, whose load
 * alone costs a tenth of a Node start — and the entry stores the full key, compared on every
 * read, so a collision can only ever be a miss.
 */
import type { CredsRequest } from '../core/creds-request.js';

export interface CacheKeyInput extends CredsRequest {
  addr: string;
  identity: string;
}

export interface CacheKey {
  /** 16 hex digits: the file name */
  id: string;
  /** the full key, stored in the entry */
  material: string;
}

/** Audiences as a set: `b,a` and `a, b` ask for the same token. */
export const normalizeAudiences = (a: string | undefined): string[] =>
  [...new Set((a ?? '').split(',').map((s) => s.trim()).filter(Boolean))].sort();

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

export function fnv1a64(text: string): string {
  let h = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  return h.toString(16).padStart(16, '0');
}

export function cacheKey(i: CacheKeyInput): CacheKey {
  const material = JSON.stringify([
    'kubelease-exec-v1',
    i.addr,
    i.mount,
    i.role,
    i.namespace ?? '',
    i.ttl ?? '',
    normalizeAudiences(i.audiences),
    i.clusterRoleBinding,
    i.identity,
  ]);
  return { id: fnv1a64(material), material };
}
