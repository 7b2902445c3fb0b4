/**
 * `npm run bench`: starts the real test bed once (or reuses the one named by KUBELEASE_BED),
 * runs the benchmarks in test/bench side by side, prints each figure beside its anchor from the
 * same run as a ratio with its goal, stops the bed. Nothing here fails on a slow machine.
 *
 *   npm run bench                       every section, issue 13's table at the end
 *   npm run bench -- --only critical,cold
 *   npm run bench -- --sweep-leases 10000   the issue's full sweeper size (~15 min on 2 loaded cores)
 *   npm run bench -- --cpu-prof .kubelease/prof   V8 CPU profile of the local stack under the load
 *                                       run (node --cpu-prof), summarised by area and function
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureKubeBinaries, startTestBed, type TestBed, type TestBedInfo } from '../lib/local/testbed/index.js';
import { loadBed } from '../test/support/bed.js';
import { runColdStartBench } from '../test/bench/cold-start.bench.js';
import { runCriticalPathBench } from '../test/bench/critical-path.bench.js';
import { runExecPluginBench } from '../test/bench/exec-plugin.bench.js';
import { runIssueBench } from '../test/bench/issue-latency.bench.js';
import { runSweepScaleBench, SWEEP_CONCURRENCY } from '../test/bench/sweep-scale.bench.js';
import { formatSummary, summarizeProfile } from '../test/bench/support/cpu-profile.js';
import { formatRows, type Row } from '../test/bench/support/report.js';
import { buildCli } from './build-cli.mjs';

const SECTIONS = ['critical', 'cold', 'sweep', 'modes', 'exec'] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    rounds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '40' },
    total: { type: 'string', default: '200' },
    'init-runs': { type: 'string', default: '10' },
    'sweep-leases': { type: 'string', default: '1000' },
    'sweep-concurrency': { type: 'string', default: String(SWEEP_CONCURRENCY) },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`npm run bench -- [--only ${SECTIONS.join(',')}] [--rounds 20] [--warmup 100] [--concurrency 40] [--total 200] [--init-runs 10]
                 [--sweep-leases 1000] [--sweep-concurrency ${SWEEP_CONCURRENCY}] [--cpu-prof DIR]
KUBELEASE_BED=<bed.json> reuses a running test bed.\n`);
  process.exit(0);
}
const int = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive whole number, got ${String(values[name])}`);
  return n;
};
const only = new Set((values.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? SECTIONS) as Section[]);
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}" (${SECTIONS.join(', ')})`);

const say = (msg: string) => process.stderr.write(`[kubelease bench] ${msg}\n`);
const print = (line: string) => process.stdout.write(`${line}\n`);

let bed: TestBed | undefined;
const stop = async (code: number) => {
  await bed?.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stop(130));
process.on('SIGTERM', () => void stop(143));

try {
  const started = performance.now();
  let info: TestBedInfo;
  let bedFile = process.env.KUBELEASE_BED;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kl-bench-'));
  if (bedFile) {
    info = loadBed();
    say(`reusing the bed of ${bedFile}`);
  } else {
    const kubeBinDir = await ensureKubeBinaries(say);
    bed = await startTestBed({ kubeBinDir, log: say });
    info = bed.info();
    bedFile = path.join(tmp, 'bed.json');
    writeFileSync(bedFile, JSON.stringify(info));
  }
  print(`kubelease bench: ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${process.version}`);
  const rows: Row[] = [];
  const section = async (name: Section, run: () => Promise<Row[] | void>) => {
    if (!only.has(name)) return;
    const t = performance.now();
    const out = await run();
    if (out) rows.push(...out);
    say(`${name}: ${((performance.now() - t) / 1000).toFixed(0)} s`);
  };

  await section('critical', async () => {
    const profDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
    const result = await runCriticalPathBench({
      bed: info,
      bedFile: bedFile as string,
      rounds: int('rounds'),
      warmup: int('warmup'),
      concurrency: int('concurrency'),
      total: int('total'),
      ...(profDir ? { cpuProfDir: profDir } : {}),
      print,
    });
    if (profDir) {
      const profile = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).sort().pop();
      if (profile) {
        print('');
        print(`CPU profile of the local stack during the load run (${path.join(profDir, profile)}):`);
        const summary = summarizeProfile(path.join(profDir, profile), result.loadWindowUs, { sourceMap: result.sourceMap, root: process.cwd() });
        for (const line of formatSummary(summary, result.cpuPerIssueMs)) print(line);
      }
    }
    return result.rows;
  });
  await section('cold', () => runColdStartBench({ runs: int('init-runs'), print }));
  await section('sweep', () => runSweepScaleBench({ bed: info, leases: int('sweep-leases'), concurrency: int('sweep-concurrency'), print }));
  await section('modes', () => runIssueBench(info, print));
  await section('exec', async () => {
    await buildCli(); // the exec plugin is measured as users run it: the built JavaScript
    await runExecPluginBench(info, print);
  });

  if (rows.length > 0) {
    print('');
    print(`issue 13, measured side by side in this run (${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(1)}; the bench took ${((performance.now() - started) / 1000).toFixed(0)} s):`);
    for (const line of formatRows(rows)) print(line);
  }
  rmSync(tmp, { recursive: true, force: true });
  await stop(0);
} catch (err) {
  say(err instanceof Error ? (err.stack ?? err.message) : String(err));
  await stop(1);
}
