/**
 * The reliability suite's counts (faults injected, crash points, fuzz cases, scanned lines, soak
 * figures): each section appends one JSON line to the file KUBELEASE_RELIABILITY_SUMMARY names
 * (scripts/test.ts sets it and prints every line again at the end of `npm test`; without it, the
 * bed's directory) and prints it.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { loadBed } from '../bed.js';

export type Figures = Record<string, number | string>;

const summaryFile = () => process.env.KUBELEASE_RELIABILITY_SUMMARY ?? path.join(loadBed().dir, 'reliability-summary.jsonl');

export function recordSummary(section: string, figures: Figures): void {
  const line = JSON.stringify({ section, ...figures });
  appendFileSync(summaryFile(), `${line}\n`);
  process.stderr.write(`[reliability] ${section}: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}
