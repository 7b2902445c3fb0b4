import {
  anyPrincipalMatches,
  forbidden,
  isKubeleaseError,
  notFound,
  parseCommaList,
  parseStoredRole,
  type ClusterConfig,
  type Role,
} from '../domain/index.js';
import type { KubeCluster } from '../ports.js';
import type { Caller, EngineDeps } from './deps.js';

export function isAdmin(deps: EngineDeps, caller: Caller): boolean {
  return anyPrincipalMatches(deps.settings.adminPrincipals, caller.arn);
}

export function assertAdmin(deps: EngineDeps, caller: Caller, action: string): void {
  if (!isAdmin(deps, caller)) throw forbidden(`${caller.arn} is not an admin principal and may not ${action}`);
}

export function assertMayIssue(deps: EngineDeps, role: Role, caller: Caller): void {
  if (isAdmin(deps, caller) || anyPrincipalMatches(role.allowed_principals, caller.arn)) return;
  throw notAllowed(caller, role.name);
}

/**
 * Roles parsed from a stored item, by the item: a store that serves an item from its read cache
 * hands out the same object, and its rules (YAML/JSON) are not parsed again for every request.
 */
const parsedRoles = new WeakMap<Record<string, unknown>, { mount: string; name: string; role: Role }>();

function parseRoleItem(mount: string, name: string, item: Record<string, unknown>): Role {
  const hit = parsedRoles.get(item);
  if (hit && hit.mount === mount && hit.name === name) return hit.role;
  const role = parseStoredRole(mount, name, item);
  parsedRoles.set(item, { mount, name, role });
  return role;
}

/** Reads and re-validates a stored role: a console edit that breaks a rule fails closed (422). */
export async function loadRole(deps: EngineDeps, mount: string, name: string): Promise<Role> {
  const item = await deps.roles.get(mount, name);
  if (!item) throw notFound(`role "${name}" does not exist on mount "${mount}"`);
  return parseRoleItem(mount, name, item);
}

/**
 * For non-admins a missing role looks like a forbidden one, and so does a broken one unless its
 * stored allowed_principals name the caller (they may learn why their role fails): role names
 * and stored values are not probed this way.
 */
export async function loadRoleForCaller(deps: EngineDeps, mount: string, name: string, caller: Caller): Promise<Role> {
  const item = await deps.roles.get(mount, name);
  const admin = isAdmin(deps, caller);
  if (!item) throw admin ? notFound(`role "${name}" does not exist on mount "${mount}"`) : notAllowed(caller, name);
  try {
    return parseRoleItem(mount, name, item);
  } catch (err) {
    if (isKubeleaseError(err) && err.kind === 'unprocessable' && !admin && !storedPrincipalsMatch(item, caller)) throw notAllowed(caller, name);
    throw err;
  }
}

function storedPrincipalsMatch(item: Record<string, unknown>, caller: Caller): boolean {
  try {
    const raw = item.allowed_principals;
    return anyPrincipalMatches(parseCommaList(raw instanceof Set ? [...(raw as Set<unknown>)] : raw, 'allowed_principals'), caller.arn);
  } catch {
    return false;
  }
}

const notAllowed = (caller: Caller, role: string) => forbidden(`${caller.arn} is not in allowed_principals of role "${role}"`);

export async function loadConfig(deps: EngineDeps, mount: string): Promise<ClusterConfig> {
  const config = await deps.configs.get(mount);
  if (!config) throw notFound(`mount "${mount}" is not configured: write /v1/${mount}/config first`);
  return config;
}

/**
 * For list paths: admins get a 404 for an unknown mount; other callers get false, so an unknown
 * mount answers like a known one where they see nothing.
 */
export async function mountExists(deps: EngineDeps, mount: string, admin: boolean): Promise<boolean> {
  if (await deps.configs.get(mount)) return true;
  if (admin) throw notFound(`mount "${mount}" is not configured: write /v1/${mount}/config first`);
  return false;
}

export async function loadCluster(deps: EngineDeps, mount: string): Promise<{ config: ClusterConfig; kube: KubeCluster }> {
  const config = await loadConfig(deps, mount);
  return { config, kube: await deps.kube.forCluster(config) };
}
