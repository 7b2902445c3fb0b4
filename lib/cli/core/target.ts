import { usageError } from './errors.js';

const NAME = /^[a-z0-9-]{1,63}$/;
const ROLE = /^[\w.@-]{1,128}$/;

export interface Target {
  mount: string;
  role: string;
}

/** `<mount>/<role>` as in `vault read <mount>/creds/<role>`, without the `creds/`. */
export function parseTarget(arg: string | undefined, command: string): Target {
  if (!arg) throw usageError('missing <mount>/<role> (e.g. prod/deploy)', command);
  const parts = arg.split('/');
  if (parts.length === 3 && parts[1] === 'creds') parts.splice(1, 1); // accept vault's prod/creds/deploy too
  const [mount, role] = parts;
  if (parts.length !== 2 || !mount || !role) throw usageError(`"${arg}" is not <mount>/<role> (e.g. prod/deploy)`, command);
  if (!NAME.test(mount)) throw usageError(`mount "${mount}" must be lower-case letters, digits and "-" (at most 63)`, command);
  if (!ROLE.test(role)) throw usageError(`role "${role}" has characters a role name cannot have`, command);
  return { mount, role };
}

/** `<mount>` or `<mount>/<role>` (leases, revoke --prefix). */
export function parseMountPrefix(arg: string, command: string): { mount: string; role?: string } {
  const [mount, role, ...rest] = arg.split('/');
  if (!mount || rest.length > 0 || role === '') throw usageError(`"${arg}" is not <mount> or <mount>/<role>`, command);
  if (!NAME.test(mount)) throw usageError(`mount "${mount}" must be lower-case letters, digits and "-" (at most 63)`, command);
  return role ? { mount, role } : { mount };
}
