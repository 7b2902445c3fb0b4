/**
 * `generated_role_rules`: JSON or YAML text holding `rules:` — a list of RBAC PolicyRules.
 * Strict on structure: only the `rules` key at the top, only PolicyRule keys in each rule,
 * and Kubernetes' own PolicyRule validation (verbs required; resource rules need apiGroups and
 * resources; non-resource URLs only in cluster-scoped roles and never mixed with resources).
 */
import { invalid } from './errors.js';
import { isPlainObject, quote, typeName } from './describe.js';
import { parseStructuredText } from './structured-text.js';
import type { PolicyRule } from './plan.js';

export const RULES_FIELD = 'generated_role_rules';
const RULE_KEYS = ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs', 'verbs'] as const;
type RuleKey = (typeof RULE_KEYS)[number];

function stringList(value: unknown, where: string, allowEmptyString: boolean, errors: string[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    errors.push(`${where}: must be a list of strings, got ${typeName(value)}`);
    return undefined;
  }
  const out: string[] = [];
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'string') errors.push(`${where}[${i}]: expected a string, got ${typeName(v)}`);
    else if (v === '' && !allowEmptyString) errors.push(`${where}[${i}]: must not be empty`);
    else out.push(v);
  });
  return out;
}

const isMissing = (v: unknown): boolean => v === undefined || v === null || (Array.isArray(v) && v.length === 0);

/** Validate decoded rules (the value under `rules:`). `namespaced` = the rules go into a Role. */
export function toPolicyRules(value: unknown, options: { namespaced?: boolean; field?: string } = {}): PolicyRule[] {
  const field = options.field ?? RULES_FIELD;
  if (!Array.isArray(value)) throw invalid(`${field}: rules must be a list of PolicyRules, got ${typeName(value)}`);
  if (value.length === 0) throw invalid(`${field}: rules must contain at least one PolicyRule`);
  const errors: string[] = [];
  const rules: PolicyRule[] = [];
  value.forEach((raw: unknown, i) => {
    const where = `${field}: rules[${i}]`;
    if (!isPlainObject(raw)) {
      errors.push(`${where}: expected a PolicyRule object, got ${typeName(raw)}`);
      return;
    }
    const before = errors.length;
    for (const k of Object.keys(raw)) {
      if (!(RULE_KEYS as readonly string[]).includes(k)) errors.push(`${where}: unknown key ${quote(k)} (PolicyRule keys: ${RULE_KEYS.join(', ')})`);
    }
    const lists: Partial<Record<RuleKey, string[]>> = {};
    for (const k of RULE_KEYS) {
      const l = stringList(raw[k], `${where}.${k}`, k === 'apiGroups', errors);
      if (l !== undefined) lists[k] = l;
    }
    const verbs = lists.verbs ?? [];
    if (isMissing(raw.verbs)) errors.push(`${where}.verbs: at least one verb is required`);
    const nonResource = lists.nonResourceURLs ?? [];
    const apiGroups = lists.apiGroups ?? [];
    const resources = lists.resources ?? [];
    if (nonResource.length > 0) {
      if (options.namespaced) errors.push(`${where}.nonResourceURLs: namespaced rules (kubernetes_role_type Role) cannot apply to non-resource URLs; use kubernetes_role_type ClusterRole`);
      if (apiGroups.length > 0 || resources.length > 0 || (lists.resourceNames ?? []).length > 0) {
        errors.push(`${where}: a rule cannot apply to both resources and nonResourceURLs`);
      }
    } else {
      if (isMissing(raw.apiGroups)) {
        errors.push(`${where}.apiGroups: resource rules must supply at least one api group ("" for the core group)`);
      }
      if (isMissing(raw.resources)) {
        errors.push(`${where}.resources: resource rules must supply at least one resource (or use nonResourceURLs)`);
      }
    }
    if (errors.length === before) {
      const rule: PolicyRule = { verbs };
      if (lists.apiGroups) rule.apiGroups = lists.apiGroups;
      if (lists.resources && lists.resources.length > 0) rule.resources = lists.resources;
      if (lists.resourceNames && lists.resourceNames.length > 0) rule.resourceNames = lists.resourceNames;
      if (nonResource.length > 0) rule.nonResourceURLs = nonResource;
      rules.push(rule);
    }
  });
  if (errors.length > 0) throw invalid(errors);
  return rules;
}

/** Parse the role field text. Returns undefined for "" (unset). */
export function parseRules(text: string, options: { namespaced?: boolean; field?: string } = {}): PolicyRule[] | undefined {
  const field = options.field ?? RULES_FIELD;
  if (text.trim() === '') return undefined;
  const value = parseStructuredText(text, field);
  if (!isPlainObject(value)) throw invalid(`${field}: expected an object with a rules: list, got ${typeName(value)}`);
  const extra = Object.keys(value).filter((k) => k !== 'rules');
  if (extra.length > 0) throw invalid(extra.map((k) => `${field}: unknown key ${quote(k)} (expected only rules:)`));
  if (!Object.prototype.hasOwnProperty.call(value, 'rules')) throw invalid(`${field}: missing rules: list`);
  return toPolicyRules(value.rules, { ...options, field });
}
