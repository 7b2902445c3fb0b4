/**
 * Parse a JSON-or-YAML text field (namespace selector, generated role rules). YAML flow syntax
 * covers JSON and Vault's single-quoted pseudo-JSON (`{'matchLabels':{'stage':'prod'}}`).
 * One leniency beyond YAML: Vault's own docs show a stray leading quote
 * (`'{'matchLabels':...}}`); when the text does not parse and starts with `'{` or `'[`, the
 * quote is dropped and parsing retried.
 */
import { parseDocument } from 'yaml';
import { invalid } from './errors.js';

export const MAX_STRUCTURED_TEXT = 64 * 1024;

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, logLevel: 'silent', version: '1.2' });
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      return { ok: false, error: first.message.split('\n')[0] ?? 'syntax error' };
    }
    return { ok: true, value: doc.toJS({ maxAliasCount: 50 }) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? (e.message.split('\n')[0] ?? 'syntax error') : 'syntax error' };
  }
}

export function parseStructuredText(text: string, field: string): unknown {
  if (text.length > MAX_STRUCTURED_TEXT) throw invalid(`${field}: is longer than ${MAX_STRUCTURED_TEXT} characters`);
  const first = tryParse(text);
  if (first.ok) return first.value;
  const trimmed = text.trim();
  if (/^'[{[]/.test(trimmed)) {
    const candidates = [trimmed.slice(1)];
    if (/[}\]]'$/.test(trimmed)) candidates.push(trimmed.slice(1, -1));
    for (const candidate of candidates) {
      const retry = tryParse(candidate);
      if (retry.ok) return retry.value;
    }
  }
  throw invalid(`${field}: is neither valid JSON nor YAML (${first.error})`);
}
