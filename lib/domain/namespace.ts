/**
 * Which namespace a creds request targets, and whether the role allows it
 * (allowed_kubernetes_namespaces OR allowed_kubernetes_namespace_selector, as Vault).
 */
import { invalid } from './errors.js';
import { quote } from './describe.js';
import { isDns1123Label } from './names.js';
import { formatSelector, matchesSelector } from './selector.js';
import type { Role } from './types.js';

type NsRole = Pick<Role, 'name' | 'allowed_kubernetes_namespaces' | 'allowed_kubernetes_namespace_selector' | 'namespace_selector'>;

function describeAllowed(role: NsRole): string {
  const parts: string[] = [];
  const list = role.allowed_kubernetes_namespaces;
  if (list.includes('*')) parts.push('all namespaces');
  else if (list.length > 0) parts.push(`namespaces ${list.join(', ')}`);
  if (role.namespace_selector) parts.push(`namespaces labeled ${formatSelector(role.namespace_selector)}`);
  return parts.length ? parts.join(', or ') : 'no namespaces';
}

/**
 * The namespace to issue in. May be omitted only when the role allows exactly one namespace,
 * not "*", and has no selector (Vault's rule, made strict about selectors).
 */
export function chooseNamespace(role: NsRole, requested: string | undefined): string {
  const ns = requested?.trim() ?? '';
  if (ns !== '') {
    if (!isDns1123Label(ns)) throw invalid(`kubernetes_namespace: ${quote(ns)} is not a valid namespace name (DNS-1123 label)`);
    return ns;
  }
  const list = role.allowed_kubernetes_namespaces;
  if (list.length === 1 && list[0] !== '*' && !role.namespace_selector && role.allowed_kubernetes_namespace_selector === '') return list[0]!;
  throw invalid(`kubernetes_namespace is required: role ${JSON.stringify(role.name)} allows ${describeAllowed(role)}`);
}

export function namespaceAllowedByList(role: Pick<Role, 'allowed_kubernetes_namespaces'>, namespace: string): boolean {
  const list = role.allowed_kubernetes_namespaces;
  return list.includes('*') || list.includes(namespace);
}

/** True when the role's selector exists and matches the namespace's labels. */
export function namespaceAllowedBySelector(role: NsRole, labels: Readonly<Record<string, string>> | undefined): boolean {
  return role.namespace_selector !== undefined && labels !== undefined && matchesSelector(role.namespace_selector, labels);
}

/** Whether the engine must read the namespace's labels to decide (list says no, a selector exists). */
export function needsNamespaceLabels(role: NsRole, namespace: string): boolean {
  return !namespaceAllowedByList(role, namespace) && role.namespace_selector !== undefined;
}

/**
 * List OR selector. Returns true when allowed; otherwise throws `invalid` (400, as Vault) whose
 * message says which namespaces / selector the role allows. `labels` are the namespace's labels
 * (undefined when not fetched or the namespace does not exist).
 */
export function namespaceAllowed(role: NsRole, namespace: string, labels: Readonly<Record<string, string>> | undefined): true {
  if (namespaceAllowedByList(role, namespace) || namespaceAllowedBySelector(role, labels)) return true;
  throw invalid(`kubernetes_namespace: ${quote(namespace)} is not allowed by role ${JSON.stringify(role.name)}, which allows ${describeAllowed(role)}`);
}
