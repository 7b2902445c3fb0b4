/**
 * zod is used for the outer shape of request bodies (object, known fields); field semantics are
 * checked by the parsers in this folder, which produce field-named messages. This module maps
 * zod issues to those messages — one message per issue, never a raw zod dump.
 */
import * as z from 'zod';
import { KubeleaseError, invalid } from './errors.js';

/** Marks an issue whose message already names its field. */
const FULL = 'kubelease_full_message';

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

export function issueMessages(issues: readonly z.core.$ZodIssue[], what = 'request body'): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const where = pathText(issue.path);
    if (issue.code === 'custom' && (issue.params as Record<string, unknown> | undefined)?.[FULL]) {
      out.push(issue.message);
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = where === '' ? key : `${where}.${key}`;
        out.push(`${field}: unknown field`);
      }
    } else if (issue.code === 'invalid_type') {
      const expected = issue.expected === 'object' ? 'a JSON object' : issue.expected;
      out.push(`${where === '' ? what : where}: expected ${expected}`);
    } else {
      out.push(`${where === '' ? what : where}: ${issue.message}`);
    }
  }
  return out;
}

/**
 * A zod field schema that runs one of our parsers. KubeleaseError messages (already field-named)
 * become issues as they are; an absent key stays undefined (field not sent).
 */
export function viaParser<T>(parse: (value: unknown) => T) {
  return z.unknown().transform((value, ctx): T => {
    try {
      return parse(value);
    } catch (e) {
      if (!(e instanceof KubeleaseError)) throw e;
      for (const message of e.errors) ctx.addIssue({ code: 'custom', message, params: { [FULL]: true } });
      return z.NEVER;
    }
  }).optional();
}

/** safeParse and throw `invalid` with mapped messages. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what?: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw invalid(issueMessages(r.error.issues, what));
  return r.data;
}
