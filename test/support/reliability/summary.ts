/**
 * The reliability suite's counts (faults injected, crash points, fuzz cases, scanned lines, soak
 * figures): each section appends one JSON line to `<bed dir>/reliability-summary.jsonl` and
 * prints it; scripts/test.ts prints them all again at the end of `npm test`.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { loadBed } from '../bed.js';

export type Figures = Record<string, number | string>;

export const SUMMARY_FILE = 'reliability-summary.jsonl';

export function recordSummary(section: string, figures: Figures): void {
  const line = JSON.stringify({ section, ...figures });
  appendFileSync(path.join(loadBed().dir, SUMMARY_FILE), `${line}\n`);
  process.stderr.write(`[reliability] ${section}: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}
