/**
 * TTL and audience resolution for a creds request (DESIGN.md, "Rules the engine owns").
 *
 *   ttl = requested || role token_default_ttl || system default (1 h)
 *   capped by role token_max_ttl (if set), then by the system max (24 h) — each cap warns
 *   below the Kubernetes floor (600 s) → 400 naming ttl
 */
import { invalid } from './errors.js';
import { formatDuration } from './duration.js';
import type { Role } from './types.js';

export interface SystemTtl {
  defaultTtl: number;
  maxTtl: number;
  /** Kubernetes' minimum TokenRequest expirationSeconds */
  floor: number;
}
/** Kubernetes rejects TokenRequests shorter than 10 minutes. */
export const KUBERNETES_MIN_TTL = 600;
export const SYSTEM_TTL: Readonly<SystemTtl> = Object.freeze({ defaultTtl: 3600, maxTtl: 86400, floor: KUBERNETES_MIN_TTL });

export interface TtlInput {
  /** seconds; undefined or 0 = not requested */
  requested?: number;
  /** role token_default_ttl; 0 = unset */
  roleDefault?: number;
  /** role token_max_ttl; 0 = unset */
  roleMax?: number;
}

export interface ResolvedTtl {
  ttl: number;
  warnings: string[];
}

export function resolveTtl(input: TtlInput, system: SystemTtl = SYSTEM_TTL): ResolvedTtl {
  const warnings: string[] = [];
  const requested = input.requested ?? 0;
  const roleDefault = input.roleDefault ?? 0;
  const roleMax = input.roleMax ?? 0;
  let ttl: number;
  let source: string;
  if (requested > 0) {
    ttl = requested;
    source = 'requested';
  } else if (roleDefault > 0) {
    ttl = roleDefault;
    source = "the role's token_default_ttl";
  } else {
    ttl = system.defaultTtl;
    source = 'the system default ttl';
  }
  if (roleMax > 0 && ttl > roleMax) {
    warnings.push(
      `ttl of ${formatDuration(ttl)} is greater than the role's token_max_ttl of ${formatDuration(roleMax)}; capping ttl to ${formatDuration(roleMax)}`,
    );
    ttl = roleMax;
    source = "the role's token_max_ttl";
  }
  if (ttl > system.maxTtl) {
    warnings.push(
      `ttl of ${formatDuration(ttl)} is greater than the system max ttl of ${formatDuration(system.maxTtl)}; capping ttl to ${formatDuration(system.maxTtl)}`,
    );
    ttl = system.maxTtl;
    source = 'the system max ttl';
  }
  if (ttl < system.floor) {
    throw invalid(
      `ttl: ${formatDuration(ttl)} (${source}) is below the Kubernetes minimum token lifetime of ${system.floor} s (${formatDuration(system.floor)})`,
    );
  }
  return { ttl, warnings };
}

/** Convenience: resolve against a role. */
export const resolveRoleTtl = (requested: number | undefined, role: Pick<Role, 'token_default_ttl' | 'token_max_ttl'>, system?: SystemTtl) =>
  resolveTtl({ requested, roleDefault: role.token_default_ttl, roleMax: role.token_max_ttl }, system);

/** request → role token_default_audiences → [] (= the cluster's default audiences). */
export function resolveAudiences(requested: readonly string[] | undefined, role: Pick<Role, 'token_default_audiences'>): string[] {
  if (requested && requested.length > 0) return [...requested];
  return [...role.token_default_audiences];
}
