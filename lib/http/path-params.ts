/**
 * Path parameters are checked at the edge, before any store is touched: a mount is a DNS-1123
 * label (not `sys` or `mounts`), a role name follows Vault's pattern. Over-long or malformed
 * names are a 400 naming the parameter, never a DynamoDB key error (502) later.
 */
import { checkMountName, checkRoleName, invalid, isKubeleaseError } from '../domain/index.js';

const CHECKS: Record<string, (value: unknown, field: string) => string> = {
  mount: checkMountName,
  name: checkRoleName,
  role: checkRoleName,
};

export function checkPathParameters(params: Record<string, string>): void {
  const errors: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    const check = CHECKS[key];
    if (!check) {
      errors.push(`${key}: unexpected path parameter`);
      continue;
    }
    try {
      check(value, key);
    } catch (e) {
      if (!isKubeleaseError(e)) throw e;
      errors.push(...e.errors);
    }
  }
  if (errors.length > 0) throw invalid(errors);
}
