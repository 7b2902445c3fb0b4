/**
 * Figures and the table `npm run bench` ends with: each measure beside its anchor from the same
 * run, the ratio and the goal. A goal that does not hold is reported, never failed on.
 */
export const median = (xs: readonly number[]): number => percentile(xs, 50);

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs `task(i)` for i < total with at most `concurrency` in flight; returns each task's latency (ms) and the wall time. */
export async function closedLoop(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      latencies.push(await timed(() => task(i)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { latencies, wallMs: performance.now() - started };
}

/** Starts `task(i)` for i < total at `perSecond` (open loop, no cap on those in flight); the wall time runs until the last one ends. */
export async function paced(total: number, perSecond: number, task: (i: number) => Promise<unknown>): Promise<{ wallMs: number }> {
  const started = performance.now();
  const running: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.ceil(wait))); // Node truncates a fractional delay
    running.push(task(i));
  }
  await Promise.all(running);
  return { wallMs: performance.now() - started };
}

export interface Row {
  measure: string;
  /** kubelease's figure, formatted */
  value: string;
  /** the anchor's figure, formatted ('—' when the goal is absolute) */
  anchor: string;
  /** kubelease / anchor (or what the goal compares), undefined when there is none */
  ratio?: number;
  goal: string;
  /** does the goal hold in this run */
  holds?: boolean;
}

export const ms = (x: number): string => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
export const ratio = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`);
export const kb = (bytes: number): string => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(0)} KB`);

export function formatRows(rows: readonly Row[]): string[] {
  const header = ['measure', 'kubelease', 'anchor, same run', 'ratio', 'goal', 'holds'];
  const cells = rows.map((r) => [r.measure, r.value, r.anchor, ratio(r.ratio), r.goal, r.holds === undefined ? '—' : r.holds ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)];
}
