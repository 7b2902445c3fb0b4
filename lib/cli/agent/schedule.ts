/** When the agent refreshes and how it backs off (pure; times in ms). */

export const BACKOFF_START_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;
/** never retry faster than this, even right before expiry */
export const BACKOFF_FLOOR_MS = 250;

/** A random point between 70 % and 80 % of the lease, so many agents do not refresh in step. */
export function refreshDelayMs(leaseSeconds: number, random: () => number): number {
  return Math.round(leaseSeconds * 1000 * (0.7 + 0.1 * random()));
}

/**
 * Delay before retry number `attempt` (0 = first retry): 1 s doubling, ±20 % jitter, capped at
 * min(5 min, a third of the time the current token has left).
 */
export function backoffDelayMs(attempt: number, remainingMs: number, random: () => number): number {
  const base = BACKOFF_START_MS * 2 ** Math.min(attempt, 20);
  const jittered = base * (0.8 + 0.4 * random());
  const cap = Math.min(BACKOFF_MAX_MS, remainingMs / 3);
  return Math.floor(Math.max(BACKOFF_FLOOR_MS, Math.min(cap, jittered)));
}
