/**
 * Runs the local stack in a child process (stack-child.ts, bundled with esbuild like the
 * Lambdas, so no TypeScript loader runs in it) and reads its CPU time over IPC. With `cpuProfDir`
 * the child runs under `node --cpu-prof`: its V8 CPU profile lands there when it stops.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ESBUILD_TARGET, ESM_REQUIRE_BANNER } from '../../../infra/bundling.js';
import { principal, type LocalCredentials, type LocalPrincipal } from '../../../lib/local/credentials.js';
import type { WaitSplit } from './wait-split.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface CpuSample {
  /** user + system CPU time of the stack process, µs */
  cpuUs: number;
  /** the child's monotonic clock (process.hrtime), µs: the clock of V8 CPU profiles */
  hrtimeUs: number;
}

export interface StackProcess {
  url: string;
  mount: string;
  /** its tables are localTableNames(tablePrefix) */
  tablePrefix: string;
  pid: number;
  /** the source map of the child's bundle, for reading its CPU profile */
  sourceMap: string;
  admin: LocalPrincipal;
  ci: LocalPrincipal;
  cpu(): Promise<CpuSample>;
  /** from now on (once it resolves) the child records each request's wall time and its outgoing calls */
  record(): Promise<void>;
  /** stops recording: each request recorded, with where its wall time went (wait-split.ts) */
  splits(): Promise<{ path: string; split: WaitSplit; ends: { lead: number; tail: number } }[]>;
  stop(): Promise<void>;
}

export interface StackProcessOptions {
  bedFile: string;
  mount: string;
  /** write a V8 CPU profile (`node --cpu-prof`) of the whole child into this directory */
  cpuProfDir?: string;
}

async function bundleChild(dir: string): Promise<string> {
  const out = path.join(dir, 'stack-child.mjs');
  await build({
    entryPoints: [path.join(here, 'stack-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ESBUILD_TARGET,
    banner: { js: ESM_REQUIRE_BANNER },
    // not minified: function names stay readable in CPU profiles; the map (never loaded at run
    // time) places them in the sources
    sourcemap: 'external',
    outfile: out,
    logLevel: 'warning',
  });
  return out;
}

export async function startStackProcess(options: StackProcessOptions): Promise<StackProcess> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kl-bench-stack-'));
  // with a profile, the bundle and its map stay beside it: the profile is read against them
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  const entry = await bundleChild(options.cpuProfDir ?? tmp);
  const tablePrefix = `bench-${options.mount}`;
  const child: ChildProcess = fork(entry, [JSON.stringify({ tablePrefix, mount: options.mount, eksMount: `${options.mount}-eks` })], {
    execArgv: options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [],
    env: { ...process.env, KUBELEASE_BED: options.bedFile, KUBELEASE_HOME: path.join(tmp, 'home'), POWERTOOLS_DEV: '' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; credentialsPath: string }>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; url: string; credentialsPath: string }) => {
      if (m.ready) resolve(m);
    });
    void exited.then((code) => reject(new Error(`the stack process exited (${code}) before it served:\n${stderr}`)));
  });
  const credentials = JSON.parse(readFileSync(ready.credentialsPath, 'utf8')) as LocalCredentials;
  let next = 0;
  /** sends {[request]: id}; resolves with the child's {[reply]: id} message, rejects if it exits first */
  const ask = <T, M = never>(request: string, reply: string, take: (m: M) => T) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      const onReply = (m: Record<string, unknown>) => {
        if (m[reply] !== id) return;
        child.off('message', onReply);
        resolve(take(m as M));
      };
      child.on('message', onReply);
      void exited.then(() => {
        child.off('message', onReply);
        reject(new Error(`the stack process exited before it answered ${request}`));
      });
      child.send({ [request]: id });
    });
  return {
    url: ready.url,
    mount: options.mount,
    tablePrefix,
    pid: child.pid ?? 0,
    sourceMap: `${entry}.map`,
    admin: principal(credentials, 'admin'),
    ci: principal(credentials, 'ci'),
    cpu: () => ask('cpu', 'cpu', (m: { user: number; system: number; hrtimeUs: number }) => ({ cpuUs: m.user + m.system, hrtimeUs: m.hrtimeUs })),
    record: () => ask<void>('record', 'recording', () => undefined),
    splits: () => ask('splits', 'splits', (m: { list: { path: string; split: WaitSplit; ends: { lead: number; tail: number } }[] }) => m.list),
    stop: async () => {
      if (child.exitCode === null) child.send({ stop: true });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
