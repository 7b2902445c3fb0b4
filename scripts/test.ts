/**
 * `npm test [-- jest args]`: builds/checks the kube binaries, starts the real test bed once,
 * runs jest with KUBELEASE_BED pointing at the bed's description, stops the bed whatever happens,
 * and exits with jest's code. Runs of unit/infra tests only skip the bed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BedError, REPO_ROOT, ensureKubeBinaries, startTestBed, type TestBed } from '../lib/local/testbed.js';

const say = (msg: string) => process.stderr.write(`[kubelease test bed] ${msg}\n`);
const args = process.argv.slice(2);

const VALUE_FLAGS = /^(-t|--testNamePattern|-c|--config|-w|--maxWorkers|--testTimeout|--reporters|--shard|--seed|--outputFile|--coverageDirectory|--testPathIgnorePatterns|--testPathPatterns)$/;

/**
 * The bed is needed unless the run is limited to unit/infra tests: by path arguments that all lie
 * under test/unit or test/infra, or by `--selectProjects unit infra`.
 */
function needsBed(argv: string[]): boolean {
  const paths: string[] = [];
  const projects: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--selectProjects') {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) projects.push(argv[++i]!);
    } else if (a.startsWith('-')) {
      if (VALUE_FLAGS.test(a)) i++; // skip the flag's value
    } else {
      paths.push(a);
    }
  }
  if (projects.length && projects.every((p) => p === 'unit' || p === 'infra')) return false;
  if (!paths.length) return true;
  return paths.some((p) => {
    const rel = path.relative(REPO_ROOT, path.resolve(REPO_ROOT, p)).split(path.sep).join('/');
    return !/^test\/(unit|infra)(\/|$)/.test(rel);
  });
}

let bed: TestBed | undefined;
let jest: ChildProcess | undefined;
let stopping: Promise<void> | undefined;
let bedFile: string | undefined;

async function shutdown(): Promise<void> {
  stopping ??= (async () => {
    if (bedFile) rmSync(bedFile, { force: true });
    if (bed) {
      const t = Date.now();
      await bed.stop();
      say(`test bed stopped (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
  })();
  return stopping;
}

function onFatal(kind: string, code: number) {
  return (reason: unknown) => {
    if (kind !== 'signal') say(`${kind}: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`);
    if (jest && jest.exitCode === null) jest.kill('SIGTERM');
    void shutdown().finally(() => process.exit(code));
  };
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) process.on(sig, onFatal('signal', code));
process.on('uncaughtException', onFatal('uncaught exception', 1));
process.on('unhandledRejection', onFatal('unhandled rejection', 1));

/** The plain closing line CI reads (`tests: N passed, N failed, N skipped`), from jest's JSON report. */
function printSummary(resultsFile: string): void {
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

function runJest(env: NodeJS.ProcessEnv): Promise<number> {
  const resultsFile = path.join(os.tmpdir(), `kubelease-jest-${process.pid}.json`);
  return new Promise<number>((resolve) => {
    jest = spawn(process.execPath, ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', `--outputFile=${resultsFile}`, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: 'inherit',
    });
    jest.on('error', (e) => {
      say(`could not start jest: ${e.message}`);
      resolve(1);
    });
    jest.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 1)));
  }).finally(() => printSummary(resultsFile));
}

async function main(): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (needsBed(args)) {
    const t0 = Date.now();
    // installs what the bed runs on (etcd, a JDK, kubectl) and builds the kube binaries once
    const binDir = await ensureKubeBinaries((l) => say(l));
    say('starting etcd, kube-apiserver, kube-controller-manager, DynamoDB Local');
    bed = await startTestBed({ kubeBinDir: binDir, log: (l) => say(l) });
    bedFile = path.join(bed.dir, 'bed.json');
    writeFileSync(bedFile, JSON.stringify(bed.info(), null, 2), { mode: 0o600 });
    env.KUBELEASE_BED = bedFile;
    say(`bed ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; description in ${bedFile}`);
  } else {
    delete env.KUBELEASE_BED;
  }
  return runJest(env);
}

let code = 1;
try {
  code = await main();
} catch (e) {
  if (e instanceof BedError) say(e.message);
  else say(`failed: ${(e as Error).stack ?? String(e)}`);
  code = 1;
} finally {
  await shutdown();
}
process.exit(code);
