/**
 * Which audiences a caller may ask for. A token for an audience trusted elsewhere (an identity
 * federation such as sts.amazonaws.com trusting the cluster's issuer) is a credential for that
 * other system, so requests are bounded by the role: allowed_audiences, else the role's
 * token_default_audiences, else none (the cluster's default audiences). "*" allows any.
 */
import { quote } from './describe.js';
import { forbidden } from './errors.js';
import type { Role } from './types.js';

export function allowedAudiencesOf(role: Pick<Role, 'allowed_audiences' | 'token_default_audiences'>): string[] {
  return role.allowed_audiences.length > 0 ? [...role.allowed_audiences] : [...role.token_default_audiences];
}

export function checkRequestedAudiences(role: Pick<Role, 'name' | 'allowed_audiences' | 'token_default_audiences'>, requested: readonly string[] | undefined): void {
  if (!requested || requested.length === 0) return;
  const allowed = allowedAudiencesOf(role);
  if (allowed.includes('*')) return;
  const refused = requested.filter((a) => !allowed.includes(a));
  if (refused.length === 0) return;
  const may = allowed.length > 0 ? `it allows ${allowed.map((a) => quote(a)).join(', ')}` : "it allows only the cluster's default audiences (omit audiences)";
  throw forbidden(
    `audiences: ${refused.map((a) => quote(a)).join(', ')} ${refused.length === 1 ? 'is' : 'are'} not allowed by role ${JSON.stringify(role.name)}: ${may}; an admin may widen allowed_audiences`,
  );
}
