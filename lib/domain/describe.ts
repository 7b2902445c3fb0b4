/**
 * Small helpers shared by the parsers: quoting user input in messages without ever throwing
 * (inputs may be anything JSON or a DynamoDB item can hold) and reading "Vault-ish" scalars.
 */
import { invalid } from './errors.js';

const MAX_QUOTED = 80;

/** A short, safe rendering of any value for an error message. Never throws. */
export function quote(value: unknown): string {
  if (typeof value === 'string') {
    const s = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value;
    return JSON.stringify(s);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** The JSON-ish type name of a value, for "expected X, got Y" messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Set) && !(v instanceof Map);

export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Go's strconv.ParseBool, which Vault uses for bool fields sent as strings.
 * `undefined` for "" so callers can apply their default.
 */
export function parseBool(value: unknown, field: string): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string') {
    const s = value.trim();
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  }
  throw invalid(`${field}: ${quote(value)} is not a boolean (use true or false)`);
}

/**
 * Vault's TypeCommaStringSlice: an array of strings or one comma-separated string.
 * Items are trimmed; empty items dropped. "" / [] / null / undefined → [].
 */
export function parseCommaList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  let items: unknown[];
  if (typeof value === 'string') items = value.split(',');
  else if (Array.isArray(value)) items = value;
  else if (value instanceof Set) items = [...(value as Set<unknown>)];
  else throw invalid(`${field}: expected a comma-separated string or an array of strings, got ${typeName(value)}`);
  const out: string[] = [];
  const errors: string[] = [];
  items.forEach((item, i) => {
    if (typeof item === 'number' && Number.isFinite(item)) item = String(item);
    if (typeof item !== 'string') {
      errors.push(`${field}[${i}]: expected a string, got ${typeName(item)}`);
      return;
    }
    const t = item.trim();
    if (t !== '') out.push(t);
  });
  if (errors.length) throw invalid(errors);
  return out;
}

/** A string field, trimmed; anything else is `invalid` naming the field. */
export function trimmedString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(`${field}: expected a string, got ${typeName(value)}`);
  return value.trim();
}

/** Sorted, de-duplicated copy. */
export const uniqueSorted = (items: readonly string[]): string[] => [...new Set(items)].sort();
