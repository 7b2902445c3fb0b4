/** The agent's refresh point and backoff. */
import { backoffDelayMs, refreshDelayMs } from '../../../lib/cli/agent/schedule.js';

describe('refreshDelayMs', () => {
  it('lies between 70 % and 80 % of the lease', () => {
    expect(refreshDelayMs(3600, () => 0)).toBe(2_520_000);
    expect(refreshDelayMs(3600, () => 0.5)).toBe(2_700_000);
    expect(refreshDelayMs(3600, () => 0.999999)).toBe(2_880_000);
    expect(refreshDelayMs(600, () => 0)).toBe(420_000);
  });
});

describe('backoffDelayMs', () => {
  const mid = () => 0.5; // no jitter
  const hour = 3_600_000;
  it('starts at 1 s and doubles', () => {
    expect([0, 1, 2, 3, 4].map((a) => backoffDelayMs(a, hour, mid))).toEqual([1000, 2000, 4000, 8000, 16000]);
  });
  it('jitters by ±20 %', () => {
    expect(backoffDelayMs(2, hour, () => 0)).toBe(3200);
    expect(backoffDelayMs(2, hour, () => 1)).toBe(4800);
  });
  it('is capped at 5 minutes', () => {
    expect(backoffDelayMs(12, hour, mid)).toBe(300_000);
    expect(backoffDelayMs(60, hour, mid)).toBe(300_000);
  });
  it('is capped at a third of the remaining lifetime', () => {
    expect(backoffDelayMs(6, 90_000, mid)).toBe(30_000);
    expect(backoffDelayMs(0, 1_500, mid)).toBe(500);
  });
  it('never goes below 250 ms', () => {
    expect(backoffDelayMs(0, 300, mid)).toBe(250);
  });
});
