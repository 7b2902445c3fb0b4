/**
 * Label / annotation keys kubelease owns, and parsing of the user's extra labels/annotations
 * (Vault's TypeKVPairs: a map, a list of "k=v" strings, or one comma-separated "k=v,k2=v2").
 */
import { invalid } from './errors.js';
import { isPlainObject, quote, typeName } from './describe.js';
import { isLabelValue, qualifiedNameProblem } from './names.js';
import { checkEntries, ROLE_LIMITS, utf8Bytes } from './limits.js';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kubelease';
export const LABEL_LEASE = 'kubelease.io/lease';
export const LABEL_ROLE = 'kubelease.io/role';
export const LABEL_MOUNT = 'kubelease.io/mount';
/** one id per deployment (kept in the config table): a sweeper only touches its own installation's objects */
export const LABEL_INSTALLATION = 'kubelease.io/installation';
export const ANNOTATION_EXPIRES_AT = 'kubelease.io/expires-at';
/** Label selector for every object kubelease manages. */
export const MANAGED_LABEL_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;

/** `app.kubernetes.io/managed-by`, or any key under kubelease.io/ (or a subdomain of it). */
export function isReservedKey(key: string): boolean {
  const k = key.toLowerCase();
  if (k === LABEL_MANAGED_BY) return true;
  const slash = k.indexOf('/');
  if (slash < 0) return false;
  const prefix = k.slice(0, slash);
  return prefix === 'kubelease.io' || prefix.endsWith('.kubelease.io');
}

/** Entries, not an object: a "__proto__=x" pair must be seen (and rejected), not swallowed. */
function toEntries(value: unknown, field: string): [string, unknown][] {
  if (value === undefined || value === null || value === '') return [];
  if (isPlainObject(value)) return Object.entries(value);
  let pairs: unknown[];
  if (typeof value === 'string') pairs = value.split(',');
  else if (Array.isArray(value)) pairs = value;
  else throw invalid(`${field}: expected a map of strings (or "key=value" pairs), got ${typeName(value)}`);
  const out: [string, unknown][] = [];
  const errors: string[] = [];
  for (const p of pairs) {
    if (typeof p !== 'string') {
      errors.push(`${field}: expected "key=value" strings, got ${typeName(p)}`);
      continue;
    }
    const t = p.trim();
    if (t === '') continue;
    const eq = t.indexOf('=');
    if (eq <= 0) {
      errors.push(`${field}: ${quote(t)} is not a "key=value" pair`);
      continue;
    }
    out.push([t.slice(0, eq).trim(), t.slice(eq + 1).trim()]);
  }
  if (errors.length) throw invalid(errors);
  return out;
}

function scalarString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v); // Vault's WeakDecode
  return undefined;
}

export function parseExtraLabels(value: unknown, field = 'extra_labels'): Record<string, string> {
  const errors: string[] = [];
  const out: Record<string, string> = {};
  for (const [k, raw] of checkEntries(toEntries(value, field), field, ROLE_LIMITS.extra_labels)) {
    const p = qualifiedNameProblem(k);
    if (p) errors.push(`${field}: label key ${quote(k)} ${p}`);
    else if (isReservedKey(k)) errors.push(`${field}: label key ${quote(k)} is reserved for kubelease`);
    const v = scalarString(raw);
    if (v === undefined) errors.push(`${field}.${k}: expected a string value, got ${typeName(raw)}`);
    else if (!isLabelValue(v)) errors.push(`${field}.${k}: ${quote(v)} is not a valid label value (at most 63 alphanumerics, "-", "_" or ".", starting and ending with an alphanumeric)`);
    else out[k] = v;
  }
  if (errors.length) throw invalid(errors);
  return sortKeys(out);
}

export function parseExtraAnnotations(value: unknown, field = 'extra_annotations'): Record<string, string> {
  const errors: string[] = [];
  const out: Record<string, string> = {};
  let size = 0;
  for (const [k, raw] of checkEntries(toEntries(value, field), field, ROLE_LIMITS.extra_annotations)) {
    const p = qualifiedNameProblem(k.toLowerCase());
    if (p) errors.push(`${field}: annotation key ${quote(k)} ${p}`);
    else if (isReservedKey(k)) errors.push(`${field}: annotation key ${quote(k)} is reserved for kubelease`);
    const v = scalarString(raw);
    if (v === undefined) errors.push(`${field}.${k}: expected a string value, got ${typeName(raw)}`);
    else {
      out[k] = v;
      size += utf8Bytes(k) + utf8Bytes(v);
    }
  }
  const max = ROLE_LIMITS.extra_annotations_bytes;
  if (size > max) errors.push(`${field}: at most ${max} bytes of keys and values are allowed (got ${size})`);
  if (errors.length) throw invalid(errors);
  return sortKeys(out);
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}
