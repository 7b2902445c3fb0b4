/**
 * One credential's life in the agent: issue, deliver, refresh at 70–80 % of the lease, back off
 * on failure (1 s doubling with jitter, capped at min(5 min, remaining/3)), and give up — fatal —
 * once the current token expired without a successor. Timers and clock are injected (tests).
 */
import { errorLine } from '../core/errors.js';
import { backoffDelayMs, refreshDelayMs } from './schedule.js';
import type { Issued } from './types.js';

export interface Timers {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface RenewerOptions {
  name: string;
  issue(): Promise<Issued>;
  deliver(i: Issued): Promise<void>;
  onFatal(error: Error): void;
  log(line: string): void;
  timers?: Timers;
  random?: () => number;
  /** test knob: refresh this long after each issuance instead of at 70–80 % of the lease */
  refreshAfterMs?: number | undefined;
}

export class Renewer {
  current?: Issued;
  /** every lease this renewer issued (for --revoke-on-exit) */
  readonly issued: Issued[] = [];
  private timer: unknown;
  private expiryTimer: unknown;
  private stopped = false;
  private lastError: unknown;
  private readonly t: Timers;
  private readonly random: () => number;

  constructor(private readonly o: RenewerOptions) {
    this.t = o.timers ?? realTimers;
    this.random = o.random ?? Math.random;
  }

  /** First issuance; its failure is the caller's (the agent exits with one line). */
  start(): Promise<Issued> {
    return this.issueAndDeliver();
  }

  stop(): void {
    this.stopped = true;
    this.t.clear(this.timer);
    this.t.clear(this.expiryTimer);
  }

  private async issueAndDeliver(): Promise<Issued> {
    const next = await this.o.issue();
    this.issued.push(next);
    await this.o.deliver(next);
    this.current = next;
    this.lastError = undefined;
    if (!this.stopped) this.scheduleAfterSuccess(next);
    return next;
  }

  private scheduleAfterSuccess(i: Issued): void {
    const delay = this.o.refreshAfterMs ?? refreshDelayMs(i.leaseSeconds, this.random);
    this.o.log(`${this.o.name}: lease ${i.leaseId} valid until ${iso(i.expiresAtMs)}; next refresh in ${Math.round(delay / 1000)} s`);
    this.t.clear(this.expiryTimer);
    this.expiryTimer = this.t.set(() => this.expired(), Math.max(0, i.expiresAtMs - this.t.now()));
    this.schedule(delay, 0);
  }

  private schedule(delay: number, attempt: number): void {
    this.t.clear(this.timer);
    this.timer = this.t.set(() => void this.refresh(attempt), delay);
  }

  private async refresh(attempt: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.issueAndDeliver();
    } catch (e) {
      if (this.stopped) return;
      this.lastError = e;
      const remaining = (this.current?.expiresAtMs ?? 0) - this.t.now();
      if (remaining <= 0) return this.expired();
      const delay = backoffDelayMs(attempt, remaining, this.random);
      this.o.log(`${this.o.name}: refresh failed (${errorLine(e).replace(/^kubelease: /, '')}); retrying in ${(delay / 1000).toFixed(1)} s, current token valid for ${Math.round(remaining / 1000)} s`);
      this.schedule(delay, attempt + 1);
    }
  }

  private expired(): void {
    if (this.stopped) return;
    this.stop();
    const why = this.lastError === undefined ? '' : ` (last error: ${errorLine(this.lastError).replace(/^kubelease: /, '')})`;
    this.o.onFatal(new Error(`${this.o.name}: the token expired at ${iso(this.current?.expiresAtMs ?? 0)} and no new one could be issued${why}`));
  }
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
