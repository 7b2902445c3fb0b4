import {
  anyPrincipalMatches,
  mergeRole,
  notFound,
  parseStoredRole,
  roleReadView,
  roleToItem,
  validateRoleName,
} from '../domain/index.js';
import type { Caller, EngineDeps } from './deps.js';
import { assertAdmin, isAdmin, loadConfig, loadRole, mountExists } from './lookups.js';

export async function writeRole(deps: EngineDeps, req: { mount: string; name: string; caller: Caller; body: unknown }) {
  assertAdmin(deps, req.caller, 'write roles');
  validateRoleName(req.name);
  await loadConfig(deps, req.mount);
  const item = await deps.roles.get(req.mount, req.name);
  // A console-broken item is replaced by a full write, never merged into.
  const existing = item ? safeParse(req.mount, req.name, item) : undefined;
  const role = mergeRole(req.name, existing, req.body);
  await deps.roles.put(req.mount, req.name, roleToItem(role));
  return roleReadView(role);
}

function safeParse(mount: string, name: string, item: Record<string, unknown>) {
  try {
    return parseStoredRole(mount, name, item);
  } catch {
    return undefined;
  }
}

export async function readRole(deps: EngineDeps, req: { mount: string; name: string; caller: Caller }) {
  assertAdmin(deps, req.caller, 'read roles');
  return roleReadView(await loadRole(deps, req.mount, req.name));
}

export async function deleteRole(deps: EngineDeps, req: { mount: string; name: string; caller: Caller }) {
  assertAdmin(deps, req.caller, 'delete roles');
  if (!(await deps.roles.get(req.mount, req.name))) throw notFound(`role "${req.name}" does not exist on mount "${req.mount}"`);
  await deps.roles.delete(req.mount, req.name);
}

/** Admins see every role; other callers (readers) see the roles they may use. */
export async function listRoles(deps: EngineDeps, req: { mount: string; caller: Caller }) {
  const admin = isAdmin(deps, req.caller);
  // non-admins see an unknown mount like a known one with no role for them: no mount oracle
  if (!(await mountExists(deps, req.mount, admin))) return { keys: [] };
  const names = (await deps.roles.list(req.mount)).sort();
  if (admin) return { keys: names };
  const visible: string[] = [];
  for (const name of names) {
    try {
      const role = await loadRole(deps, req.mount, name);
      if (anyPrincipalMatches(role.allowed_principals, req.caller.arn)) visible.push(name);
    } catch {
      // broken items are invisible to non-admins
    }
  }
  return { keys: visible };
}
