/** Small text formatting helpers for human output. */

/** 3725 → "1h2m5s" (Go's time.Duration style, as vault prints lease durations). */
export function humanDuration(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** Aligned columns; the header row is passed through `header` (bold on a TTY). */
export function table(headers: string[], rows: string[][], header: (s: string) => string = (s) => s): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [header(line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** key/value pairs, vault-read style. */
export function keyValues(pairs: [string, string][], header: (s: string) => string = (s) => s): string {
  return table(['Key', 'Value'], pairs.map(([k, v]) => [k, v]), header);
}

/** `NAME=value` safe for `eval`, `source` and $GITHUB_ENV (values are quoted only when they need it). */
export function envLine(name: string, value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? `${name}=${value}` : `${name}='${value.replace(/'/g, `'\\''`)}'`;
}
