/**
 * Runs the local stack (the broker: HTTP server, stream poller, handlers) in a child process, so
 * a test can kill it at a crash point or measure its memory: `startStackProcess()` resolves when
 * it serves. Every line it writes goes to the secrets collector. The child runs an esbuild bundle
 * of stack-child.ts (childBundle).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { principal, type LocalCredentials, type LocalPrincipal } from '../../../lib/local/credentials.js';
import type { TableNames } from '../../../lib/tables.js';
import { loadBed } from '../bed.js';
import { collector } from './collector.js';
import { dropWhenFileEnds } from './scratch-tables.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../../..');

export interface StackProcessOptions {
  home: string;
  tablePrefix: string;
  mount: string;
  eksMount: string;
  /** KUBELEASE_CRASH_AFTER */
  crashAfter?: string;
  /** extra environment (e.g. KUBELEASE_PENDING_GRACE_SECONDS) */
  env?: NodeJS.ProcessEnv;
  pollIntervalMs?: number;
  /** Powertools log level of the child (default INFO: audit lines are scanned) */
  logLevel?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the step named by `kubelease: crash point <step> reached`, when the child said it */
  crashedAt?: string;
}

export interface StackProcess {
  url: string;
  pid: number;
  tables: TableNames;
  /** from the child's start to serving, as the child measured it */
  startupMs: number;
  admin: LocalPrincipal;
  ci: LocalPrincipal;
  exited: Promise<Exit>;
  /** the child's ERROR log lines (the handlers' "request failed" with its cause), newest last */
  errorLines: string[];
  /** resident set size in KiB, from /proc */
  rssKiB(): number;
  /** SIGTERM and wait */
  stop(): Promise<Exit>;
}

let bundled: Promise<string> | undefined;

/**
 * stack-child.ts and everything it imports as one ESM file, built once per bed with esbuild (as
 * the Lambdas are deployed): the child then starts in about a second instead of compiling the
 * TypeScript tree through tsx on every start.
 */
export function childBundle(): Promise<string> {
  bundled ??= (async () => {
    const dir = path.join(loadBed().dir, 'reliability');
    const out = path.join(dir, 'stack-child.mjs');
    if (existsSync(out)) return out;
    mkdirSync(dir, { recursive: true });
    const { build } = await import('esbuild');
    const tmp = `${out}.${process.pid}.tmp.mjs`;
    await build({
      entryPoints: [path.join(here, 'stack-child.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: tmp,
      logLevel: 'warning',
      // CommonJS dependencies inside an ES module need a require
      banner: { js: "import { createRequire as __kubeleaseRequire } from 'node:module'; const require = __kubeleaseRequire(import.meta.url);" },
    });
    renameSync(tmp, out);
    return out;
  })();
  return bundled;
}

export async function startStackProcess(o: StackProcessOptions): Promise<StackProcess> {
  const entry = await childBundle();
  return spawnStack(entry, o);
}

function spawnStack(entry: string, o: StackProcessOptions): Promise<StackProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env, KUBELEASE_HOME: o.home };
  delete env.KUBELEASE_CRASH_AFTER;
  if (o.crashAfter) env.KUBELEASE_CRASH_AFTER = o.crashAfter;
  const child: ChildProcess = spawn(
    process.execPath,
    [entry, JSON.stringify({ tablePrefix: o.tablePrefix, mount: o.mount, eksMount: o.eksMount, pollIntervalMs: o.pollIntervalMs, logLevel: o.logLevel })],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let crashedAt: string | undefined;
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ...(crashedAt ? { crashedAt } : {}) })),
  );
  const stderrTail: string[] = [];
  const spawned = Date.now();
  const errorLines: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    collector.see('child', line);
    if (line.includes('"level":"ERROR"') && errorLines.push(line.slice(0, 2000)) > 200) errorLines.shift();
    if (process.env.KUBELEASE_DEBUG_CHILD) collector.say(`  child +${Date.now() - spawned} ms: ${line}`);
    const m = /^kubelease: crash point (\S+) reached$/.exec(line);
    if (m) crashedAt = m[1];
    stderrTail.push(line);
    if (stderrTail.length > 30) stderrTail.shift();
  });
  return new Promise<StackProcess>((resolve, reject) => {
    let ready = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      collector.see('child', line);
      if (line.includes('"level":"ERROR"') && errorLines.push(line.slice(0, 2000)) > 200) errorLines.shift();
      if (ready || !line.startsWith('{"ready"')) return;
      ready = true;
      const info = JSON.parse(line) as { url: string; pid: number; credentials: string; tables: TableNames; startupMs: number };
      dropWhenFileEnds(info.tables);
      const creds = JSON.parse(readFileSync(info.credentials, 'utf8')) as LocalCredentials;
      for (const p of creds.principals) {
        collector.secret(p.secret_access_key, `the local ${p.name} secret key`);
        collector.secret(p.session_token, `the local ${p.name} session token`);
      }
      resolve({
        url: info.url,
        pid: info.pid,
        tables: info.tables,
        startupMs: info.startupMs,
        admin: principal(creds, 'admin'),
        ci: principal(creds, 'ci'),
        exited,
        errorLines,
        rssKiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${info.pid}/status`, 'utf8'))?.[1] ?? 0),
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((e) => {
      if (!ready) reject(new Error(`the local stack exited before it was ready (${e.code ?? e.signal}):\n${stderrTail.join('\n')}`));
    });
  });
}
