/**
 * The exec plugin's cache key: everything that changes which token the broker would hand out
 * (address, mount, role, namespace, ttl, audiences, cluster-wide binding) and who asks.
 */
import { createHash } from 'node:crypto';
import type { CredsRequest } from '../core/creds-request.js';

export interface CacheKeyInput extends CredsRequest {
  addr: string;
  identity: string;
}

/** Audiences as a set: `b,a` and `a, b` ask for the same token. */
export const normalizeAudiences = (a: string | undefined): string[] =>
  [...new Set((a ?? '').split(',').map((s) => s.trim()).filter(Boolean))].sort();

export function cacheKey(i: CacheKeyInput): string {
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
  return createHash('sha256').update(material).digest('hex');
}
