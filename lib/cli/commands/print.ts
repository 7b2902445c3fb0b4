/** Output of admin reads: vault-style key/value table or JSON. */
import type { Io } from '../core/command.js';
import { keyValues } from '../core/format.js';
import { styleFor } from '../core/style.js';

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function printData(io: Io, data: unknown, format: 'table' | 'json'): void {
  if (format === 'json') {
    io.out(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  const entries = typeof data === 'object' && data !== null ? Object.entries(data as Record<string, unknown>) : [];
  io.out(keyValues(entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, show(v).replace(/\n/g, '\\n')]), styleFor({ isTTY: io.stdoutIsTTY }).bold));
}

export function printKeys(io: Io, keys: string[], format: 'table' | 'json'): void {
  io.out(format === 'json' ? `${JSON.stringify(keys, null, 2)}\n` : keys.map((k) => `${k}\n`).join(''));
}

export function printWarnings(io: Io, warnings: string[] | null | undefined): void {
  for (const w of warnings ?? []) io.err(`kubelease: warning: broker: ${w}\n`);
}
