/**
 * Running the built `kubelease` CLI (bin/kubelease.cjs → dist/cli, built by npm test before
 * jest starts) as users do: a child process with its own HOME, cache dir and AWS identity,
 * against a local stack started in this test file on the test bed. `kubelease` is also put on
 * PATH so kubectl finds the exec plugin by name.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logger } from '../../lib/lambda/observability.js';
import { principal, type LocalPrincipal } from '../../lib/local/credentials.js';
import { startLocalStack, type LocalStack } from '../../lib/local/stack.js';
import * as k8s from '@kubernetes/client-node';
import { loadBed, statusOf, tokenKubeConfig, uniqueSuffix } from './bed.js';

export const REPO = process.cwd();
export const CLI_BIN = path.join(REPO, 'bin', 'kubelease.cjs');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, o: { timeoutMs?: number; input?: string } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0), stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

/** a JWT anywhere in a text (tokens must only appear where asked for) */
export const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

export interface CliStack {
  stack: LocalStack;
  mount: string;
  admin: LocalPrincipal;
  ci: LocalPrincipal;
  /** one line per HTTP request the stack served */
  requests: string[];
  /** number of creds requests (any answer) the stack served for a role so far */
  credsRequests(role: string): number;
  /** a private temp dir removed at stop() */
  tmp: string;
  /** directory holding a `kubelease` symlink, for PATH */
  binDir: string;
  /** environment of a user: own HOME and cache dir, the principal's keys, the stack's address */
  env(p: LocalPrincipal | undefined, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  cli(args: string[], env: NodeJS.ProcessEnv, o?: { timeoutMs?: number; input?: string }): Promise<Ran>;
  stop(): Promise<void>;
}

export async function startCliStack(label: string): Promise<CliStack> {
  // the handlers' audit lines and EMF metric lines would drown the test output
  logger.setLogLevel('ERROR');
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const bed = loadBed();
  const suffix = uniqueSuffix();
  const tmp = mkdtempSync(path.join(os.tmpdir(), `kl-${label}-`));
  const requests: string[] = [];
  const stack = await startLocalStack({
    env: { ...process.env, KUBELEASE_HOME: path.join(tmp, 'stack-home') },
    bed,
    tablePrefix: `${label}-${suffix}`,
    mount: `${label}-${suffix}`,
    port: 0,
    sweepSeconds: 0,
    pollIntervalMs: 500,
    log: () => {},
    requestLog: (line) => requests.push(line),
  });
  const binDir = path.join(tmp, 'bin');
  mkdirSync(binDir);
  symlinkSync(CLI_BIN, path.join(binDir, 'kubelease'));
  let homes = 0;
  const cs: CliStack = {
    stack,
    mount: stack.mount,
    admin: principal(stack.credentials.credentials, 'admin'),
    ci: principal(stack.credentials.credentials, 'ci'),
    requests,
    credsRequests: (role) => requests.filter((l) => l.startsWith(`POST /v1/${stack.mount}/creds/${role} `)).length,
    tmp,
    binDir,
    env(p, extra = {}) {
      const home = path.join(tmp, `home-${++homes}`);
      mkdirSync(home, { mode: 0o700 });
      return {
        PATH: [binDir, path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter),
        HOME: home,
        KUBECACHEDIR: path.join(home, '.kube', 'cache'),
        KUBELEASE_ADDR: stack.url,
        AWS_EC2_METADATA_DISABLED: 'true',
        ...(p
          ? { AWS_ACCESS_KEY_ID: p.access_key_id, AWS_SECRET_ACCESS_KEY: p.secret_access_key, ...(p.session_token ? { AWS_SESSION_TOKEN: p.session_token } : {}) }
          : {}),
        ...extra,
      };
    },
    cli: (args, env, o) => run(process.execPath, [CLI_BIN, ...args], env, o),
    async stop() {
      await stack.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  return cs;
}

/** Same user, another identity: keeps HOME and cache dir, swaps the AWS keys. */
export function withPrincipal(env: NodeJS.ProcessEnv, p: LocalPrincipal): NodeJS.ProcessEnv {
  const { AWS_SESSION_TOKEN: _t, ...rest } = env;
  return { ...rest, AWS_ACCESS_KEY_ID: p.access_key_id, AWS_SECRET_ACCESS_KEY: p.secret_access_key, ...(p.session_token ? { AWS_SESSION_TOKEN: p.session_token } : {}) };
}

/** The cache files (`<key>.json`) in a user's kubelease cache dir. */
export function cacheFiles(env: NodeJS.ProcessEnv): string[] {
  const dir = path.join(env.KUBECACHEDIR!, 'kubelease');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f)) : [];
}

/** HTTP status of listing pods in `default` with a token on the bed's apiserver. */
export async function podsStatus(token: string): Promise<number> {
  try {
    await tokenKubeConfig(token).makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'default' });
    return 200;
  } catch (e) {
    return statusOf(e) ?? 0;
  }
}

export function requireBuiltCli(): void {
  if (!existsSync(path.join(REPO, 'dist', 'cli', 'kubelease.cjs'))) throw new Error('dist/cli is not built: run the tests with npm test (it builds the CLI first) or npm run build:cli');
}
