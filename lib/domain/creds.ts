/** The creds request body: kubernetes_namespace, cluster_role_binding, ttl, audiences. */
import * as z from 'zod';
import { invalid } from './errors.js';
import { parseBool, parseCommaList, typeName } from './describe.js';
import { parseTtl } from './duration.js';
import { parseWith, viaParser } from './zod-issues.js';
import { checkAudiences, ROLE_LIMITS } from './limits.js';
import type { CredsRequest } from './types.js';

export const credsInputSchema = z.strictObject({
  kubernetes_namespace: viaParser((v): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalid(`kubernetes_namespace: expected a string, got ${typeName(v)}`);
    return v.trim() === '' ? undefined : v.trim();
  }),
  cluster_role_binding: viaParser((v) => parseBool(v, 'cluster_role_binding') ?? false),
  ttl: viaParser((v) => {
    const s = parseTtl(v, 'ttl');
    return s === 0 ? undefined : s;
  }),
  audiences: viaParser((v) => {
    const list = v === undefined || v === null ? [] : [...new Set(parseCommaList(v, 'audiences'))];
    return list.length === 0 ? undefined : checkAudiences(list, 'audiences', ROLE_LIMITS.allowed_audiences);
  }),
});

/** Parse a creds body (undefined/null = empty body). Throws `invalid` naming fields. */
export function parseCredsRequest(input: unknown): CredsRequest {
  const p = parseWith(credsInputSchema, input === undefined || input === null ? {} : input, 'creds request');
  const out: CredsRequest = { cluster_role_binding: p.cluster_role_binding ?? false };
  if (p.kubernetes_namespace !== undefined) out.kubernetes_namespace = p.kubernetes_namespace;
  if (p.ttl !== undefined) out.ttl = p.ttl;
  if (p.audiences !== undefined) out.audiences = p.audiences;
  return out;
}
