/**
 * Namespace label selectors (`allowed_kubernetes_namespace_selector`): parsed from JSON or YAML
 * into a real Kubernetes LabelSelector and matched with Kubernetes semantics.
 *
 * Decisions: "" (or whitespace) means unset, as in Vault. A selector that parses to nothing
 * (`{}`, `matchLabels: {}`) is rejected by `parseSelector` because on a role it would silently
 * allow every namespace — `allowed_kubernetes_namespaces: "*"` says that explicitly.
 * `matchesSelector` itself follows Kubernetes: the empty selector matches everything.
 */
import { invalid } from './errors.js';
import { hasOwn, isPlainObject, quote, typeName } from './describe.js';
import { isLabelValue, qualifiedNameProblem } from './names.js';
import { parseStructuredText } from './structured-text.js';
import type { LabelSelector, LabelSelectorRequirement } from './types.js';

export const SELECTOR_FIELD = 'allowed_kubernetes_namespace_selector';
const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

function labelKeyProblems(key: string, where: string, errors: string[]): void {
  const p = qualifiedNameProblem(key);
  if (p) errors.push(`${where}: label key ${quote(key)} ${p}`);
}
function labelValueProblems(value: unknown, where: string, errors: string[]): value is string {
  if (typeof value !== 'string') {
    errors.push(`${where}: expected a string label value, got ${typeName(value)}${typeof value === 'number' || typeof value === 'boolean' ? ' (quote it)' : ''}`);
    return false;
  }
  if (!isLabelValue(value)) {
    errors.push(`${where}: ${quote(value)} is not a valid label value (at most 63 alphanumerics, "-", "_" or ".", starting and ending with an alphanumeric)`);
    return false;
  }
  return true;
}

/** Validate an already-decoded value as a LabelSelector. Throws `invalid` with one message per problem. */
export function toLabelSelector(value: unknown, field = SELECTOR_FIELD): LabelSelector {
  if (!isPlainObject(value)) throw invalid(`${field}: expected a LabelSelector object with matchLabels and/or matchExpressions, got ${typeName(value)}`);
  const errors: string[] = [];
  const out: LabelSelector = {};
  for (const key of Object.keys(value)) {
    if (key !== 'matchLabels' && key !== 'matchExpressions') errors.push(`${field}: unknown key ${quote(key)} (only matchLabels and matchExpressions)`);
  }
  if (hasOwn(value, 'matchLabels') && value.matchLabels !== null) {
    const labels = toMatchLabels(value.matchLabels, field, errors);
    if (labels && Object.keys(labels).length > 0) out.matchLabels = labels;
  }
  if (hasOwn(value, 'matchExpressions') && value.matchExpressions !== null) {
    const reqs = toMatchExpressions(value.matchExpressions, field, errors);
    if (reqs.length > 0) out.matchExpressions = reqs;
  }
  if (errors.length > 0) throw invalid(errors);
  return out;
}

/** `matchLabels`: the valid pairs; a problem with any pair or the map itself goes to `errors`. */
function toMatchLabels(ml: unknown, field: string, errors: string[]): Record<string, string> | undefined {
  if (!isPlainObject(ml)) {
    errors.push(`${field}: matchLabels must be a map of label keys to values, got ${typeName(ml)}`);
    return undefined;
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(ml)) {
    labelKeyProblems(k, `${field}: matchLabels`, errors);
    if (labelValueProblems(v, `${field}: matchLabels.${k}`, errors)) labels[k] = v;
  }
  return labels;
}

/** `matchExpressions`: the requirements without problems; every problem goes to `errors`. */
function toMatchExpressions(me: unknown, field: string, errors: string[]): LabelSelectorRequirement[] {
  if (!Array.isArray(me)) {
    errors.push(`${field}: matchExpressions must be a list, got ${typeName(me)}`);
    return [];
  }
  return me.flatMap((raw: unknown, i) => {
    const before = errors.length;
    const req = toRequirement(raw, `${field}: matchExpressions[${i}]`, errors);
    return req && errors.length === before ? [req] : [];
  });
}

function toRequirement(raw: unknown, where: string, errors: string[]): LabelSelectorRequirement | undefined {
  if (!isPlainObject(raw)) {
    errors.push(`${where}: expected an object with key, operator and values, got ${typeName(raw)}`);
    return undefined;
  }
  for (const k of Object.keys(raw)) {
    if (!['key', 'operator', 'values'].includes(k)) errors.push(`${where}: unknown key ${quote(k)} (only key, operator, values)`);
  }
  const key = raw.key;
  if (typeof key !== 'string' || key === '') errors.push(`${where}.key: required label key`);
  else labelKeyProblems(key, `${where}.key`, errors);
  const op = raw.operator;
  if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
    errors.push(`${where}.operator: ${quote(op)} is not one of ${OPERATORS.join(', ')}`);
  }
  const values = raw.values === null ? undefined : raw.values;
  const vals = toRequirementValues(values, op, where, errors);
  const req: LabelSelectorRequirement = { key: key as string, operator: op as LabelSelectorRequirement['operator'] };
  if (op === 'In' || op === 'NotIn') req.values = vals;
  return req;
}

/** The values an operator takes: at least one for In/NotIn, none for Exists/DoesNotExist. */
function toRequirementValues(values: unknown, op: unknown, where: string, errors: string[]): string[] {
  const vals: string[] = [];
  if (values !== undefined) {
    if (!Array.isArray(values)) errors.push(`${where}.values: must be a list of strings, got ${typeName(values)}`);
    else values.forEach((v: unknown, j) => {
      if (labelValueProblems(v, `${where}.values[${j}]`, errors)) vals.push(v);
    });
  }
  if (op === 'In' || op === 'NotIn') {
    if (vals.length === 0 && (values === undefined || (Array.isArray(values) && values.length === 0))) {
      errors.push(`${where}.values: operator ${op} needs at least one value`);
    }
  } else if (op === 'Exists' || op === 'DoesNotExist') {
    if (values !== undefined && (!Array.isArray(values) || values.length > 0)) {
      errors.push(`${where}.values: operator ${op} takes no values`);
    }
    return [];
  }
  return vals;
}

export const isEmptySelector = (s: LabelSelector): boolean =>
  Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;

/**
 * Parse the role field. Returns undefined for ""/whitespace (unset). Rejects empty selectors
 * (they would match every namespace; use allowed_kubernetes_namespaces "*" for that).
 */
export function parseSelector(text: string, field = SELECTOR_FIELD): LabelSelector | undefined {
  if (text.trim() === '') return undefined;
  const value = parseStructuredText(text, field);
  const selector = toLabelSelector(value, field);
  if (isEmptySelector(selector)) {
    throw invalid(`${field}: selector is empty and would match every namespace; set allowed_kubernetes_namespaces to "*" to allow all namespaces`);
  }
  return selector;
}

/** Kubernetes semantics: all matchLabels and all matchExpressions must hold; empty selector matches all. */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = (k: string) => hasOwn(labels, k);
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(k) || labels[k] !== v) return false;
  }
  for (const r of selector.matchExpressions ?? []) {
    const present = has(r.key);
    const value = present ? labels[r.key] : undefined;
    switch (r.operator) {
      case 'In':
        if (!present || !(r.values ?? []).includes(value as string)) return false;
        break;
      case 'NotIn':
        if (present && (r.values ?? []).includes(value as string)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Compact one-line rendering for messages: `stage=prod,tier in (a,b),!legacy`. */
export function formatSelector(selector: LabelSelector): string {
  const parts: string[] = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    if (r.operator === 'In') parts.push(`${r.key} in (${(r.values ?? []).join(',')})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${(r.values ?? []).join(',')})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else parts.push(`!${r.key}`);
  }
  return parts.join(',');
}
