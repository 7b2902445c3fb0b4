/**
 * `npm test [-- jest args]`: jest with ES modules, every argument passed on as it is. The test
 * bed is jest's business: the `integration` project's globalSetup starts it when one of its tests
 * runs and its globalTeardown (or a signal) stops it (test/support/bed-global.ts). Builds the
 * CLI first, prints the plain closing line CI reads and exits with jest's code.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../lib/local/testbed/index.js';
import { buildCli } from './build-cli.mjs';

const resultsFile = path.join(os.tmpdir(), `kubelease-jest-${process.pid}.json`);
const jestBin = path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
/** where the reliability suite's files append their counts (test/support/reliability/summary.ts) */
const reliabilityFile = path.join(os.tmpdir(), `kubelease-reliability-${process.pid}.jsonl`);

/** The reliability figures again, together, where the run ends (they are the issue's report). */
function printReliability(): void {
  if (!existsSync(reliabilityFile)) return;
  const lines = readFileSync(reliabilityFile, 'utf8').split('\n').filter(Boolean);
  process.stderr.write(`[reliability] summary of this run:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  rmSync(reliabilityFile, { force: true });
}

/** `tests: N passed, N failed, N skipped`, from jest's JSON report. */
function printSummary(): void {
  try {
    const r = JSON.parse(readFileSync(resultsFile, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numRuntimeErrorTestSuites: number };
    // a file can fail outside its tests (a failing afterAll, e.g. the reliability suite's secrets scan)
    const outside = r.numRuntimeErrorTestSuites > 0 ? `, ${r.numRuntimeErrorTestSuites} file(s) failed outside their tests` : '';
    process.stdout.write(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped${outside}\n`);
  } catch {
    // jest wrote no report (it failed to start): its own output says why
  } finally {
    rmSync(resultsFile, { force: true });
  }
}

// the CLI's tests run the built bin (plain JavaScript, as users get it), never the TypeScript
const built = Date.now();
await buildCli();
process.stderr.write(`[kubelease] CLI built into dist/cli (${Date.now() - built} ms)\n`);

const jest = spawn(
  process.execPath,
  ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', jestBin, '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)],
  { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, KUBELEASE_RELIABILITY_SUMMARY: reliabilityFile } },
);
// A terminal's Ctrl-C reaches jest itself; a signal sent to this process alone is passed on, and
// jest (its globalSetup) stops the bed before it exits.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (jest.exitCode === null && jest.signalCode === null) jest.kill(sig);
  });
}
jest.on('error', (e) => {
  process.stderr.write(`[kubelease] could not start jest: ${e.message}\n`);
  process.exit(1);
});
jest.on('exit', (code, signal) => {
  printReliability();
  printSummary();
  process.exit(code ?? 128 + (signal ? os.constants.signals[signal] : 1));
});
