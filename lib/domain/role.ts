/**
 * Roles: the input schema (every shape Vault accepts), partial-update merge, whole-role rules,
 * the stored item form and Vault's read view.
 *
 * Partial update (as Vault): a field that is absent or null keeps its stored value; "" (or [])
 * clears it back to its default. Switching mode needs the old mode field cleared with "" in the
 * same request — kubelease never guesses which of two mode fields you meant.
 */
import * as z from 'zod';
import { KubeleaseError, invalid, unprocessable } from './errors.js';
import { isPlainObject, parseBool, parseCommaList, quote, trimmedString as str, typeName, uniqueSorted } from './describe.js';
import { formatDuration, parseTtl } from './duration.js';
import { KUBERNETES_MIN_TTL } from './ttl.js';
import { checkRoleName, isDns1123Label, isDns1123Subdomain, isIamArnPattern, isRbacName } from './names.js';
import { parseExtraAnnotations, parseExtraLabels } from './labels.js';
import { parseSelector, SELECTOR_FIELD } from './selector.js';
import { parseRules } from './rules.js';
import { checkTemplateSyntax, renderName } from './template.js';
import { parseWith, viaParser } from './zod-issues.js';
import { checkAudiences, checkBytes, checkEntries, ROLE_LIMITS, utf8Bytes } from './limits.js';
import type { Role, RoleMode } from './types.js';

export const MODE_FIELDS = ['service_account_name', 'kubernetes_role_name', 'generated_role_rules'] as const;
type ModeField = (typeof MODE_FIELDS)[number];

/** The stored/normalized role fields (Role without name and derived parsed forms). */
export type RoleFields = Omit<Role, 'name' | 'namespace_selector' | 'rules'>;

export const ROLE_DEFAULTS: Readonly<RoleFields> = Object.freeze({
  allowed_kubernetes_namespaces: [],
  allowed_kubernetes_namespace_selector: '',
  token_max_ttl: 0,
  token_default_ttl: 0,
  token_default_audiences: [],
  allowed_audiences: [],
  service_account_name: '',
  kubernetes_role_name: '',
  kubernetes_role_type: 'Role',
  generated_role_rules: '',
  name_template: '',
  extra_labels: {},
  extra_annotations: {},
  allowed_principals: [],
  revocable: true,
  allow_cluster_role_binding: false,
});

// ---------------------------------------------------------------- field parsers

export function parseNamespaces(value: unknown, field = 'allowed_kubernetes_namespaces'): string[] {
  const items = checkEntries(parseCommaList(value, field), field, ROLE_LIMITS.allowed_kubernetes_namespaces);
  const errors: string[] = [];
  const out: string[] = [];
  for (const item of items) {
    const ns = item.toLowerCase();
    if (ns === '*') out.push(ns);
    else if (!isDns1123Label(ns)) errors.push(`${field}: ${quote(item)} is not a valid namespace name (DNS-1123 label)`);
    else out.push(ns);
  }
  if (errors.length) throw invalid(errors);
  return out.includes('*') ? ['*'] : uniqueSorted(out);
}

/** Text fields that hold JSON or YAML; a JSON object/array sent directly is accepted and kept as JSON text. */
function structuredText(value: unknown, field: string): string {
  if (isPlainObject(value) || Array.isArray(value)) {
    try {
      return JSON.stringify(value);
    } catch {
      throw invalid(`${field}: could not be encoded as JSON`);
    }
  }
  if (typeof value !== 'string') throw invalid(`${field}: expected a JSON or YAML string, got ${typeName(value)}`);
  return value.trim() === '' ? '' : value;
}

function ttlField(value: unknown, field: string): number {
  const secs = parseTtl(value, field);
  if (secs > 0 && secs < KUBERNETES_MIN_TTL) {
    throw invalid(
      `${field}: ${formatDuration(secs)} is below the Kubernetes minimum token lifetime of ${KUBERNETES_MIN_TTL} s (${formatDuration(KUBERNETES_MIN_TTL)})`,
    );
  }
  return secs;
}

function audiences(value: unknown, field: 'token_default_audiences' | 'allowed_audiences'): string[] {
  return checkAudiences([...new Set(parseCommaList(value, field))], field, ROLE_LIMITS[field]);
}

function roleType(value: unknown, field = 'kubernetes_role_type'): 'Role' | 'ClusterRole' {
  const s = str(value, field).toLowerCase();
  if (s === '' || s === 'role') return 'Role';
  if (s === 'clusterrole') return 'ClusterRole';
  throw invalid(`${field}: ${quote(value)} must be Role or ClusterRole`);
}

function principals(value: unknown, field = 'allowed_principals'): string[] {
  const items = checkEntries(parseCommaList(value, field), field, ROLE_LIMITS.allowed_principals);
  const bad = items.filter((p) => !isIamArnPattern(p));
  if (bad.length) {
    throw invalid(
      bad.map(
        (p) => `${field}: ${quote(p)} is not an IAM ARN or ARN pattern (e.g. arn:aws:iam::123456789012:role/ci-deployer or arn:aws:iam::123456789012:role/ci-*)`,
      ),
    );
  }
  return uniqueSorted(items);
}

const fieldParsers: { [K in keyof RoleFields]: (value: unknown, field: string) => RoleFields[K] } = {
  allowed_kubernetes_namespaces: parseNamespaces,
  allowed_kubernetes_namespace_selector: (v, f) => {
    const text = checkBytes(structuredText(v, f), f, ROLE_LIMITS.allowed_kubernetes_namespace_selector);
    parseSelector(text, f);
    return text;
  },
  token_max_ttl: ttlField,
  token_default_ttl: ttlField,
  token_default_audiences: (v) => audiences(v, 'token_default_audiences'),
  allowed_audiences: (v) => audiences(v, 'allowed_audiences'),
  service_account_name: (v, f) => {
    const s = str(v, f);
    if (s !== '' && !isDns1123Subdomain(s)) throw invalid(`${f}: ${quote(s)} is not a valid service account name (DNS-1123 subdomain)`);
    return s;
  },
  kubernetes_role_name: (v, f) => {
    const s = str(v, f);
    if (s !== '' && !isRbacName(s)) throw invalid(`${f}: ${quote(s)} is not a valid Role/ClusterRole name (no "/" or "%", at most 253 characters)`);
    return s;
  },
  kubernetes_role_type: roleType,
  generated_role_rules: (v, f) => {
    const text = checkBytes(structuredText(v, f), f, ROLE_LIMITS.generated_role_rules);
    parseRules(text, { field: f });
    return text;
  },
  name_template: (v, f) => {
    const s = str(v, f);
    const max = ROLE_LIMITS.name_template;
    if (s.length > max) throw invalid(`${f}: at most ${max} characters are allowed (got ${s.length})`);
    checkTemplateSyntax(s);
    return s;
  },
  extra_labels: (v, f) => parseExtraLabels(v, f),
  extra_annotations: (v, f) => parseExtraAnnotations(v, f),
  allowed_principals: principals,
  revocable: (v, f) => parseBool(v, f) ?? true,
  allow_cluster_role_binding: (v, f) => parseBool(v, f) ?? false,
};

export const ROLE_FIELDS = Object.keys(fieldParsers) as (keyof RoleFields)[];

/** A field sent as null (or absent) means "not sent". */
function optionalField<K extends keyof RoleFields>(key: K) {
  return viaParser((v): RoleFields[K] | undefined => (v === undefined || v === null ? undefined : fieldParsers[key](v, key)));
}

/**
 * zod schema for a role write body (also accepts `name`, which must match the path).
 * Output: the normalized fields that were sent; unsent fields are undefined.
 */
export const roleInputSchema = z.strictObject({
  name: z.unknown().optional(),
  allowed_kubernetes_namespaces: optionalField('allowed_kubernetes_namespaces'),
  allowed_kubernetes_namespace_selector: optionalField('allowed_kubernetes_namespace_selector'),
  token_max_ttl: optionalField('token_max_ttl'),
  token_default_ttl: optionalField('token_default_ttl'),
  token_default_audiences: optionalField('token_default_audiences'),
  allowed_audiences: optionalField('allowed_audiences'),
  service_account_name: optionalField('service_account_name'),
  kubernetes_role_name: optionalField('kubernetes_role_name'),
  kubernetes_role_type: optionalField('kubernetes_role_type'),
  generated_role_rules: optionalField('generated_role_rules'),
  name_template: optionalField('name_template'),
  extra_labels: optionalField('extra_labels'),
  extra_annotations: optionalField('extra_annotations'),
  allowed_principals: optionalField('allowed_principals'),
  revocable: optionalField('revocable'),
  allow_cluster_role_binding: optionalField('allow_cluster_role_binding'),
});

// ---------------------------------------------------------------- whole-role rules

export function roleMode(role: Pick<Role, ModeField>): RoleMode {
  if (role.service_account_name) return 'existing_service_account';
  if (role.kubernetes_role_name) return 'bind_role';
  return 'generated_role';
}

export interface RoleCheckOptions {
  /** mount used for the name_template dry render (default "kubernetes") */
  mount?: string;
}

function finish(name: string, f: RoleFields, hint: { existing?: RoleFields; sent?: Set<string> }, options: RoleCheckOptions): Role {
  const errors: string[] = [];
  const set = MODE_FIELDS.filter((k) => f[k] !== '');
  if (set.length === 0) {
    errors.push(`one of ${MODE_FIELDS.join(', ')} must be set (service_account_name: use an existing ServiceAccount; kubernetes_role_name: bind an existing Role/ClusterRole; generated_role_rules: generate a Role)`);
  } else if (set.length > 1) {
    const old = hint.existing ? set.filter((k) => hint.existing![k] !== '' && !hint.sent?.has(k)) : [];
    if (old.length > 0) {
      errors.push(
        `${set.join(', ')}: only one may be set; the role already has ${old.join(', ')} — send ${old.map((k) => `"${k}": ""`).join(', ')} to switch modes`,
      );
    } else errors.push(`${set.join(', ')}: only one of ${MODE_FIELDS.join(', ')} may be set`);
  }
  if (f.allowed_kubernetes_namespaces.length === 0 && f.allowed_kubernetes_namespace_selector === '') {
    errors.push(`allowed_kubernetes_namespaces: at least one of allowed_kubernetes_namespaces or ${SELECTOR_FIELD} must be set`);
  }
  if (f.allow_cluster_role_binding && (f.service_account_name !== '' || f.kubernetes_role_type !== 'ClusterRole')) {
    errors.push(
      'allow_cluster_role_binding: only a role with kubernetes_role_type ClusterRole (and kubernetes_role_name or generated_role_rules) can bind cluster-wide',
    );
  }
  const allowed = f.allowed_audiences;
  if (allowed.length > 0 && !allowed.includes('*')) {
    for (const a of f.token_default_audiences.filter((d) => !allowed.includes(d))) {
      errors.push(`token_default_audiences: ${quote(a)} is not in allowed_audiences (${allowed.map((x) => quote(x)).join(', ')})`);
    }
  }
  if (f.token_max_ttl > 0 && f.token_default_ttl > f.token_max_ttl) {
    errors.push(
      `token_default_ttl: ${formatDuration(f.token_default_ttl)} cannot be greater than token_max_ttl ${formatDuration(f.token_max_ttl)}`,
    );
  }
  let rules: Role['rules'];
  let selector: Role['namespace_selector'];
  const collect = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof KubeleaseError) errors.push(...e.errors);
      else throw e;
    }
  };
  collect(() => {
    selector = parseSelector(f.allowed_kubernetes_namespace_selector);
  });
  collect(() => {
    rules = parseRules(f.generated_role_rules, { namespaced: f.kubernetes_role_type === 'Role' });
  });
  collect(() => {
    renderName(f.name_template, { RoleName: name, DisplayName: 'caller', Mount: options.mount ?? 'kubernetes', Namespace: 'default', now: new Date(0) }, (n) => 'a'.repeat(n));
  });
  if (errors.length) throw invalid(errors);
  const stored = utf8Bytes(JSON.stringify(cloneFields(f)));
  if (stored > ROLE_LIMITS.role_bytes) {
    throw invalid(
      `role: the role would be stored as ${stored} bytes; at most ${ROLE_LIMITS.role_bytes} bytes are allowed (shorten allowed_principals, extra_annotations or generated_role_rules)`,
    );
  }
  const role: Role = { name, ...cloneFields(f) };
  if (selector) role.namespace_selector = selector;
  if (rules) role.rules = rules;
  return role;
}

function cloneFields(f: RoleFields): RoleFields {
  return {
    allowed_kubernetes_namespaces: [...f.allowed_kubernetes_namespaces],
    allowed_kubernetes_namespace_selector: f.allowed_kubernetes_namespace_selector,
    token_max_ttl: f.token_max_ttl,
    token_default_ttl: f.token_default_ttl,
    token_default_audiences: [...f.token_default_audiences],
    allowed_audiences: [...f.allowed_audiences],
    service_account_name: f.service_account_name,
    kubernetes_role_name: f.kubernetes_role_name,
    kubernetes_role_type: f.kubernetes_role_type,
    generated_role_rules: f.generated_role_rules,
    name_template: f.name_template,
    extra_labels: { ...f.extra_labels },
    extra_annotations: { ...f.extra_annotations },
    allowed_principals: [...f.allowed_principals],
    revocable: f.revocable,
    allow_cluster_role_binding: f.allow_cluster_role_binding,
  };
}

function fieldsOf(role: Role): RoleFields {
  return cloneFields(role);
}

/**
 * Create (existing undefined) or partially update a role from a request body.
 * Throws `invalid` (400) with one field-named message per problem.
 */
export function mergeRole(name: string, existing: Role | undefined, input: unknown, options: RoleCheckOptions = {}): Role {
  checkRoleName(name);
  const parsed = parseWith(roleInputSchema, input === undefined || input === null ? {} : input, 'role');
  if (parsed.name !== undefined && parsed.name !== null && parsed.name !== name) {
    throw invalid(`name: ${quote(parsed.name)} does not match the role name in the path (${quote(name)})`);
  }
  const base = existing ? fieldsOf(existing) : cloneFields(ROLE_DEFAULTS);
  const sent = new Set<string>();
  const merged: Record<string, unknown> = { ...base };
  for (const key of ROLE_FIELDS) {
    const v = parsed[key];
    if (v !== undefined) {
      merged[key] = v;
      sent.add(key);
    }
  }
  return finish(name, merged as unknown as RoleFields, { existing: existing ? base : undefined, sent }, options);
}

/** Keys a stored role item may carry besides the role fields (table keys and bookkeeping). */
export const STORED_ROLE_META_KEYS: readonly string[] = ['mount', 'name', 'created_at', 'updated_at', 'version'];

/**
 * Validate a role item read from the roles table (admins edit items in the DynamoDB console):
 * the same rules as a write; any failure → `unprocessable` (422) naming roles/<mount>/<name> and
 * the field, so creds fail closed.
 */
export function parseStoredRole(mount: string, name: string, item: Record<string, unknown>): Role {
  const where = `roles/${mount}/${name}`;
  try {
    if (!isPlainObject(item)) throw invalid(`item: expected an object, got ${typeName(item)}`);
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) {
      if (STORED_ROLE_META_KEYS.includes(k)) continue;
      body[k] = v instanceof Set ? [...(v as Set<unknown>)] : v;
    }
    checkRoleName(name);
    const parsed = parseWith(roleInputSchema, body, 'item');
    const merged: Record<string, unknown> = cloneFields(ROLE_DEFAULTS);
    for (const key of ROLE_FIELDS) if (parsed[key] !== undefined) merged[key] = parsed[key];
    return finish(name, merged as unknown as RoleFields, {}, { mount });
  } catch (e) {
    if (e instanceof KubeleaseError) throw unprocessable(e.errors.map((m) => `${where}: ${m}`));
    throw e;
  }
}

/** What gets stored: the normalized fields, plain JSON (no name, no derived parsed forms). */
export function roleToItem(role: Role): Record<string, unknown> {
  return cloneFields(role) as unknown as Record<string, unknown>;
}

/** Vault's read shape plus kubelease's fields. */
export function roleReadView(role: Role): Record<string, unknown> {
  return {
    name: role.name,
    allowed_kubernetes_namespaces: [...role.allowed_kubernetes_namespaces],
    allowed_kubernetes_namespace_selector: role.allowed_kubernetes_namespace_selector,
    token_max_ttl: role.token_max_ttl,
    token_default_ttl: role.token_default_ttl,
    token_default_audiences: [...role.token_default_audiences],
    allowed_audiences: [...role.allowed_audiences],
    service_account_name: role.service_account_name,
    kubernetes_role_name: role.kubernetes_role_name,
    kubernetes_role_type: role.kubernetes_role_type,
    generated_role_rules: role.generated_role_rules,
    name_template: role.name_template,
    extra_labels: { ...role.extra_labels },
    extra_annotations: { ...role.extra_annotations },
    additional_metadata: { labels: { ...role.extra_labels }, annotations: { ...role.extra_annotations } },
    allowed_principals: [...role.allowed_principals],
    revocable: role.revocable,
    allow_cluster_role_binding: role.allow_cluster_role_binding,
    mode: roleMode(role),
  };
}
