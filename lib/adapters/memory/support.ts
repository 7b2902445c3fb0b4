/** Deterministic / in-memory implementations of Clock, Ids and Audit. */
import type { Audit, AuditEvent, Clock, Ids } from '../../ports.js';

/** A clock that only moves when told to. */
export class FixedClock implements Clock {
  private ms: number;
  constructor(start: Date | number | string = '2030-01-01T00:00:00Z') {
    this.ms = new Date(start).getTime();
    if (Number.isNaN(this.ms)) throw new Error('FixedClock: invalid start time');
  }
  now(): Date {
    return new Date(this.ms);
  }
  set(to: Date | number | string): void {
    this.ms = new Date(to).getTime();
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  /** epoch seconds of now() */
  epoch(): number {
    return Math.floor(this.ms / 1000);
  }
}

/**
 * Predictable ids: the k-th call returns k (1-based, base 36) left-padded with '0' to n chars
 * (the last n chars when longer), so tests can name what will be generated.
 */
export class SeqIds implements Ids {
  private counter: number;
  constructor(start = 1) {
    this.counter = start;
  }
  random(n: number): string {
    const s = (this.counter++).toString(36).padStart(n, '0');
    return s.slice(s.length - n);
  }
  /** what the next call with length n will return, without consuming it */
  peek(n: number): string {
    const s = this.counter.toString(36).padStart(n, '0');
    return s.slice(s.length - n);
  }
}

/** Collects audit events for assertions. */
export class MemoryAudit implements Audit {
  readonly events: AuditEvent[] = [];
  record(event: AuditEvent): void {
    this.events.push(structuredClone(event));
  }
  find(action: string): AuditEvent[] {
    return this.events.filter((e) => e.action === action);
  }
  clear(): void {
    this.events.length = 0;
  }
}
