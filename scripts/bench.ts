/**
 * `npm run bench`: starts the real test bed once, runs the benchmarks in test/bench side by
 * side, prints ratios, stops the bed. Nothing here fails on a slow machine.
 */
import { ensureKubeBinaries, startTestBed, type TestBed } from '../lib/local/testbed/index.js';
import { runExecPluginBench } from '../test/bench/exec-plugin.bench.js';
import { runIssueBench } from '../test/bench/issue-latency.bench.js';
import { buildCli } from './build-cli.mjs';

const say = (msg: string) => process.stderr.write(`[kubelease bench] ${msg}\n`);

let bed: TestBed | undefined;
const stop = async (code: number) => {
  await bed?.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stop(130));
process.on('SIGTERM', () => void stop(143));

try {
  const kubeBinDir = await ensureKubeBinaries(say);
  bed = await startTestBed({ kubeBinDir, log: say });
  await runIssueBench(bed);
  await buildCli(); // the exec plugin is measured as users run it: the built JavaScript
  await runExecPluginBench(bed);
  await stop(0);
} catch (err) {
  say(err instanceof Error ? err.message : String(err));
  await stop(1);
}
