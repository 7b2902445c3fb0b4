/**
 * Bounded retries with full jitter, for adapter calls whose client library has none of its own
 * (client-node retries nothing: not a 429, not a 503, not a reset connection). The AWS SDK
 * clients retry by themselves (standard mode: 3 attempts, jittered backoff) and do not use this.
 *
 * The caller decides what may be retried: `classify` looks at a failure and says whether a new
 * attempt is safe and useful, and how long the server asked to wait (Retry-After).
 */
export interface RetryDecision {
  retry: boolean;
  /** the server's Retry-After, in ms */
  afterMs?: number;
}

export interface RetryPolicy {
  /** attempts in all, the first included (default 3) */
  attempts?: number;
  /** backoff before retry n is random in [0, min(capMs, baseMs * 2^n)) (default 100 ms) */
  baseMs?: number;
  /** cap of one wait, Retry-After included (default 2 000 ms): a call never waits longer than this between attempts */
  capMs?: number;
  /** [0, 1); default Math.random */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: Required<Pick<RetryPolicy, 'attempts' | 'baseMs' | 'capMs'>> = { attempts: 3, baseMs: 100, capMs: 2000 };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `retry` (1-based): Retry-After when given, else full jitter; capped. */
export function backoffMs(retry: number, decision: RetryDecision, policy: RetryPolicy = {}): number {
  const base = policy.baseMs ?? DEFAULT_RETRY.baseMs;
  const cap = policy.capMs ?? DEFAULT_RETRY.capMs;
  const random = policy.random ?? Math.random;
  const jitter = random() * Math.min(cap, base * 2 ** (retry - 1));
  // a Retry-After is honoured, plus a little jitter so that callers told the same value spread out
  const wait = decision.afterMs !== undefined ? decision.afterMs + random() * base : jitter;
  return Math.min(cap, Math.max(0, Math.floor(wait)));
}

/** Runs `fn` until it succeeds, `classify` says stop, or the attempts are used up; rethrows the last failure. */
export async function withRetries<T>(
  fn: () => Promise<T>,
  classify: (err: unknown) => RetryDecision,
  policy: RetryPolicy = {},
): Promise<T> {
  const attempts = Math.max(1, policy.attempts ?? DEFAULT_RETRY.attempts);
  const sleep = policy.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts) throw err;
      const decision = classify(err);
      if (!decision.retry) throw err;
      await sleep(backoffMs(attempt, decision, policy));
    }
  }
}

/** Retry-After as seconds (what Kubernetes sends) or an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
