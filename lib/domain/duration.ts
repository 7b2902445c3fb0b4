/**
 * TTL parsing as Vault does it (parseutil.ParseDurationSecond): whole seconds as a number or
 * numeric string, a Go duration string ("90s", "1h30m", "1.5h"), or whole days ("7d").
 * 0, "", null and undefined mean "unset" and return 0. Kubernetes token lifetimes are whole
 * seconds, so a duration that is not a whole number of seconds ("300ms", "1.5s") is rejected
 * rather than silently rounded.
 */
import { invalid } from './errors.js';
import { quote, typeName } from './describe.js';

/** Upper bound for any TTL we accept: 10 years, far above every real cap. */
export const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const NS_PER_SECOND = 1_000_000_000n;
const COMPONENT = /([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)/y;

function bad(field: string, value: unknown, why: string) {
  return invalid(`${field}: ${quote(value)} ${why}`);
}

/** Go's time.ParseDuration (non-negative form) → nanoseconds, or undefined if malformed. */
function parseGoDuration(s: string): bigint | undefined {
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  COMPONENT.lastIndex = 0;
  let pos = 0;
  while (pos < s.length) {
    COMPONENT.lastIndex = pos;
    const m = COMPONENT.exec(s);
    if (!m || m.index !== pos) return undefined;
    const [whole, int = '', frac = '', unit = ''] = m;
    if (int === '' && frac === '') return undefined; // "h", ".h"
    const scale = NS_PER_UNIT[unit];
    if (scale === undefined) return undefined;
    let ns = BigInt(int === '' ? '0' : int) * scale;
    if (frac !== '') ns += (BigInt(frac) * scale) / 10n ** BigInt(frac.length); // Go truncates
    total += ns;
    pos += whole.length;
  }
  return total;
}

function checkRange(seconds: number, field: string, value: unknown): number {
  if (seconds > MAX_TTL_SECONDS) throw bad(field, value, `is too large (at most ${formatDuration(MAX_TTL_SECONDS)})`);
  return seconds;
}

/** Parse a TTL field to whole seconds; 0 = unset. Throws `invalid` naming `field`. */
export function parseTtl(value: unknown, field: string): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw bad(field, value, 'is not a valid duration');
    if (value < 0) throw bad(field, value, 'must not be negative');
    if (!Number.isInteger(value)) throw bad(field, value, 'must be a whole number of seconds');
    return checkRange(value, field, value);
  }
  if (typeof value !== 'string') {
    throw invalid(`${field}: expected seconds or a Go duration string like "1h", got ${typeName(value)}`);
  }
  let s = value.trim();
  if (s.startsWith('-')) throw bad(field, value, 'must not be negative');
  if (s.startsWith('+')) s = s.slice(1);
  if (/^[0-9]+$/.test(s)) {
    if (s.length > 12) throw bad(field, value, `is too large (at most ${formatDuration(MAX_TTL_SECONDS)})`);
    return checkRange(Number(s), field, value);
  }
  const days = /^([0-9]+)d$/.exec(s);
  if (days) {
    if (days[1]!.length > 6) throw bad(field, value, `is too large (at most ${formatDuration(MAX_TTL_SECONDS)})`);
    return checkRange(Number(days[1]) * 86400, field, value);
  }
  if (s.length > 64) throw bad(field, value, 'is not a valid duration (use seconds or a Go duration like "1h30m")');
  const ns = parseGoDuration(s);
  if (ns === undefined) throw bad(field, value, 'is not a valid duration (use seconds or a Go duration like "1h30m")');
  if (ns % NS_PER_SECOND !== 0n) throw bad(field, value, 'must be a whole number of seconds (Kubernetes token lifetimes are in seconds)');
  const secs = ns / NS_PER_SECOND;
  if (secs > BigInt(MAX_TTL_SECONDS)) throw bad(field, value, `is too large (at most ${formatDuration(MAX_TTL_SECONDS)})`);
  return Number(secs);
}

/** Go's time.Duration.String() for whole seconds: 0s, 45s, 10m0s, 24h0m0s, 1h30m5s. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const neg = seconds < 0;
  let s = Math.floor(Math.abs(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const body = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  return neg ? `-${body}` : body;
}
