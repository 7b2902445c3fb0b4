/**
 * When a cached token is served, refreshed, or served anyway because a refresh failed.
 * Times in epoch milliseconds.
 */
export const MIN_MARGIN_S = 60;
export const MAX_MARGIN_S = 300;
/** a cached token with more than this left is served when its refresh fails */
export const FALLBACK_MIN_REMAINING_MS = 30_000;
/** kubectl is told the token expires this much earlier than it does */
export const EXPIRATION_HEADROOM_MS = 60_000;

/** Refresh this long before expiry: 20 % of the token's lifetime, at least 60 s, at most 300 s. */
export function refreshMarginSeconds(lifetimeSeconds: number): number {
  return Math.min(MAX_MARGIN_S, Math.max(MIN_MARGIN_S, Math.floor(lifetimeSeconds * 0.2)));
}

export interface Lifetime {
  issuedAtMs: number;
  expiresAtMs: number;
}

export function isFresh(t: Lifetime, nowMs: number): boolean {
  const margin = refreshMarginSeconds((t.expiresAtMs - t.issuedAtMs) / 1000) * 1000;
  return nowMs < t.expiresAtMs - margin;
}

/** May this token still be served when a refresh failed? */
export const isUsableFallback = (t: Lifetime, nowMs: number): boolean => t.expiresAtMs - nowMs > FALLBACK_MIN_REMAINING_MS;

/**
 * `status.expirationTimestamp` for kubectl: a minute before the real expiry; a fallback token
 * served with less than a minute left gets half its remaining time (never a time in the past,
 * which would make client-go run the plugin again on its next request).
 */
export function execExpirationMs(expiresAtMs: number, nowMs: number): number {
  const early = expiresAtMs - EXPIRATION_HEADROOM_MS;
  if (early > nowMs) return early;
  return nowMs + Math.max(0, Math.floor((expiresAtMs - nowMs) / 2));
}
