/**
 * Bounds on what callers may store or request. A DynamoDB item holds at most 400 KB and a key
 * part at most 1 KB (sort key) / 2 KB (partition key): everything a caller can put into an item
 * is bounded here, on write, with a 400 naming the field and the limit — never a 502 later.
 */
import { invalid } from './errors.js';

export const ROLE_LIMITS = Object.freeze({
  allowed_kubernetes_namespaces: 256,
  /** bytes of the selector text */
  allowed_kubernetes_namespace_selector: 16384,
  token_default_audiences: 32,
  allowed_audiences: 32,
  /** characters of one audience (also in creds requests) */
  audience_length: 512,
  /** bytes of the rules text */
  generated_role_rules: 65536,
  /** characters */
  name_template: 1024,
  extra_labels: 64,
  extra_annotations: 64,
  /** bytes of all annotation keys and values together */
  extra_annotations_bytes: 32768,
  allowed_principals: 256,
  /** bytes of the whole stored role (JSON) */
  role_bytes: 131072,
});

const encoder = new TextEncoder();
export const utf8Bytes = (s: string): number => encoder.encode(s).length;

export function checkEntries<T>(items: readonly T[], field: string, max: number): readonly T[] {
  if (items.length > max) throw invalid(`${field}: at most ${max} entries are allowed (got ${items.length})`);
  return items;
}

export function checkBytes(text: string, field: string, max: number): string {
  const n = utf8Bytes(text);
  if (n > max) throw invalid(`${field}: at most ${max} bytes are allowed (got ${n})`);
  return text;
}

export function checkLength(text: string, field: string, max: number): string {
  if (text.length > max) throw invalid(`${field}: at most ${max} characters are allowed per entry (got ${text.length})`);
  return text;
}

/** A list of audiences: bounded in count and in the length of each. */
export function checkAudiences(items: readonly string[], field: string, max: number): string[] {
  checkEntries(items, field, max);
  for (const a of items) checkLength(a, field, ROLE_LIMITS.audience_length);
  return [...items];
}
