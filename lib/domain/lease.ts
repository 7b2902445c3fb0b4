/**
 * Lease ids as Vault prints them: `<mount>/creds/<role>/<24 random [A-Za-z0-9]>`, and the short
 * label-safe hash used in the `kubelease.io/lease` label (first 20 hex chars of SHA-256 of the
 * lease id — 80 bits).
 */
import { createHash } from 'node:crypto';
import { invalid } from './errors.js';
import { quote } from './describe.js';
import { isMountName, isRoleName } from './names.js';

export const LEASE_SUFFIX_LENGTH = 24;
export const LEASE_HASH_LENGTH = 20;
const SUFFIX = /^[A-Za-z0-9]{24}$/;

/** `random(n)` must return n characters of [A-Za-z0-9] (e.g. Ids.random, which gives [a-z0-9]). */
export function newLeaseId(mount: string, role: string, random: (n: number) => string): string {
  const suffix = random(LEASE_SUFFIX_LENGTH);
  if (!SUFFIX.test(suffix)) throw new Error(`lease id random source returned ${quote(suffix)}; expected 24 characters of [A-Za-z0-9]`);
  return `${mount}/creds/${role}/${suffix}`;
}

export function leaseHash(leaseId: string): string {
  return createHash('sha256').update(leaseId, 'utf8').digest('hex').slice(0, LEASE_HASH_LENGTH);
}

export interface ParsedLeaseId {
  mount: string;
  role: string;
  suffix: string;
}

/** The body of `sys/leases/lookup` and `sys/leases/revoke`. */
export interface LeaseRequest {
  lease_id: string;
}

/**
 * `{"lease_id": "..."}` with a well-formed id; Vault clients may send `increment` (renew) or
 * `sync` (revoke): both are accepted and ignored. Throws `invalid` naming the field.
 */
export function parseLeaseRequest(body: unknown): LeaseRequest {
  if (typeof body !== 'object' || body === null) throw invalid('lease_id: required (JSON body {"lease_id": "..."})');
  const extra = Object.keys(body).filter((k) => k !== 'lease_id' && k !== 'increment' && k !== 'sync');
  if (extra.length > 0) throw invalid(extra.map((k) => `${k}: unknown field`));
  const leaseId = (body as { lease_id?: unknown }).lease_id;
  if (typeof leaseId !== 'string' || leaseId === '') throw invalid('lease_id: required');
  parseLeaseId(leaseId);
  return { lease_id: leaseId };
}

/** Parse a lease id; throws `invalid` naming lease_id. */
export function parseLeaseId(leaseId: unknown, field = 'lease_id'): ParsedLeaseId {
  const bad = () => invalid(`${field}: ${quote(leaseId)} is not a kubelease lease id (<mount>/creds/<role>/<24 characters>)`);
  if (typeof leaseId !== 'string') throw bad();
  const parts = leaseId.split('/');
  if (parts.length !== 4) throw bad();
  const [mount, creds, role, suffix] = parts as [string, string, string, string];
  if (creds !== 'creds' || !isMountName(mount) || !isRoleName(role) || !SUFFIX.test(suffix)) throw bad();
  return { mount, role, suffix };
}
