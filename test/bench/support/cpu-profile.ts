/**
 * Reads a V8 CPU profile (`node --cpu-prof`) of the stack process and says where its CPU went
 * during one window (the load run): self time per function and per area (a package under
 * node_modules, a folder of this repository, Node internals, GC/idle), positions mapped back to
 * the original sources through the bundle's source map.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** ms of samples inside the window, idle excluded */
  busyMs: number;
  windowMs: number;
  byArea: { area: string; ms: number }[];
  byFunction: { fn: string; where: string; ms: number }[];
}

function areaOf(source: string, root: string): string {
  const nm = source.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = source.slice(nm + 'node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]) ?? source;
  }
  const rel = path.relative(root, source.replace(/^file:\/\//, ''));
  if (!rel.startsWith('..')) return path.dirname(rel);
  return source;
}

/** `window`: [start, end] in µs on the profile's clock (process.hrtime of the profiled process). */
export function summarizeProfile(file: string, window: [number, number] | undefined, options: { sourceMap?: string; root: string }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const map = options.sourceMap ? new SourceMap(JSON.parse(readFileSync(options.sourceMap, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]) : undefined;
  const mapDir = options.sourceMap ? path.dirname(options.sourceMap) : '';
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  const [from, to] = window ?? [profile.startTime, profile.endTime];
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from || t > to) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  });
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, { fn: string; where: string; us: number }>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    let source = frame.url;
    let line = frame.lineNumber;
    let fn = frame.functionName || '(anonymous)';
    if (map && frame.url.endsWith('.mjs') && line >= 0) {
      const entry = map.findEntry(line, frame.columnNumber) as { originalSource?: string; originalLine?: number; name?: string };
      if (entry.originalSource) {
        source = path.resolve(mapDir, entry.originalSource.replace(/^file:\/\//, ''));
        line = entry.originalLine ?? line;
        if (fn === '(anonymous)' && entry.name) fn = entry.name;
      }
    }
    if (fn === '(idle)') continue;
    // (program), (garbage collector): V8's own time, no source
    const special = fn.startsWith('(') && !source;
    busy += us;
    const area = special ? fn : source.startsWith('node:') ? 'node internals' : source ? areaOf(source, options.root) : '(native)';
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const where = source ? `${source.startsWith('node:') ? source : path.relative(options.root, source)}:${line + 1}` : '';
    const key = `${fn}@${where}`;
    const f = byFunction.get(key) ?? { fn, where, us: 0 };
    f.us += us;
    byFunction.set(key, f);
  }
  return {
    busyMs: busy / 1000,
    windowMs: (to - from) / 1000,
    byArea: [...byArea].map(([area, us]) => ({ area, ms: us / 1000 })).sort((a, b) => b.ms - a.ms),
    byFunction: [...byFunction.values()].map((f) => ({ fn: f.fn, where: f.where, ms: f.us / 1000 })).sort((a, b) => b.ms - a.ms),
  };
}

/**
 * Shares of the sampled time, and what they come to per issue given the CPU time the process
 * really used (`cpuPerIssueMs`, from process.cpuUsage): on a loaded machine a sample also counts
 * the time the process waited for a core, so sampled time overstates CPU; the shares hold.
 */
export function formatSummary(s: ProfileSummary, cpuPerIssueMs: number, top = 15): string[] {
  const pct = (x: number) => `${((100 * x) / s.busyMs).toFixed(1).padStart(5)} %`;
  const per = (x: number) => `${((x / s.busyMs) * cpuPerIssueMs).toFixed(2).padStart(6)} ms/issue`;
  return [
    `  ${s.busyMs.toFixed(0)} ms sampled in a ${s.windowMs.toFixed(0)} ms window; ${cpuPerIssueMs.toFixed(1)} ms of CPU per issue (process.cpuUsage), split by the samples' shares:`,
    '  by area:',
    ...s.byArea.slice(0, top).map((a) => `    ${pct(a.ms)} ${per(a.ms)}  ${a.area}`),
    '  by function (self time):',
    ...s.byFunction.slice(0, top).map((f) => `    ${pct(f.ms)} ${per(f.ms)}  ${f.fn}  ${f.where}`),
  ];
}
