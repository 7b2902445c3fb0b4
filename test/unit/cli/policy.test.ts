/** Refresh margin, freshness, fallback and the expirationTimestamp kubectl sees. */
import { execExpirationMs, isFresh, isUsableFallback, refreshMarginSeconds } from '../../../lib/cli/cache/policy.js';

describe('refreshMarginSeconds = clamp(20 % of lifetime, 60 s, 300 s)', () => {
  it.each([
    [100, 60],
    [300, 60],
    [600, 120],
    [1200, 240],
    [1500, 300],
    [3600, 300],
    [86400, 300],
  ])('lifetime %i s → %i s', (lifetime, margin) => {
    expect(refreshMarginSeconds(lifetime)).toBe(margin);
  });
});

describe('isFresh', () => {
  const issued = 1_000_000;
  const oneHour = { issuedAtMs: issued, expiresAtMs: issued + 3_600_000 };
  it('is fresh until the margin before expiry', () => {
    expect(isFresh(oneHour, issued + 3_600_000 - 300_001)).toBe(true);
    expect(isFresh(oneHour, issued + 3_600_000 - 300_000)).toBe(false);
    expect(isFresh(oneHour, issued + 3_700_000)).toBe(false);
  });
  it('uses 20 % for a 10-minute token', () => {
    const tenMin = { issuedAtMs: issued, expiresAtMs: issued + 600_000 };
    expect(isFresh(tenMin, issued + 479_999)).toBe(true);
    expect(isFresh(tenMin, issued + 480_000)).toBe(false);
  });
});

describe('fallback', () => {
  const t = { issuedAtMs: 0, expiresAtMs: 100_000 };
  it('serves a token with more than 30 s left', () => {
    expect(isUsableFallback(t, 69_999)).toBe(true);
    expect(isUsableFallback(t, 70_000)).toBe(false);
  });
});

describe('execExpirationMs', () => {
  it('is one minute before the real expiry', () => {
    expect(execExpirationMs(1_000_000, 0)).toBe(940_000);
  });
  it('is never in the past for a fallback token with less than a minute left', () => {
    expect(execExpirationMs(1_000_000, 960_000)).toBe(980_000);
  });
});
