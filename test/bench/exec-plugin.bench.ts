/**
 * What kubectl pays per invocation for `kubelease exec-credential`, measured side by side in one
 * run against the local stack on the real test bed:
 *  - a cache hit (the common case) as a ratio to `node -e 0` — the floor of any Node program
 *    (goal ≤ 1.3×), with the project's Node and, if different, the machine's own Node;
 *  - a cold miss (empty cache): the SDK and signer load, credentials, SigV4, one issuance.
 * Prints medians and ratios; asserts nothing about absolute time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logger } from '../../lib/lambda/observability.js';
import { principal } from '../../lib/local/credentials.js';
import { startLocalStack } from '../../lib/local/stack.js';
import type { TestBedInfo } from '../../lib/local/testbed/index.js';

const ROUNDS = Number(process.env.KUBELEASE_BENCH_ROUNDS ?? 8);
const HIT_ROUNDS = Math.max(10, ROUNDS * 3);
const BIN = path.join(process.cwd(), 'bin', 'kubelease.cjs');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** Wall time of one process run. Asynchronous: the local stack answering the misses lives in this process. */
function timedRun(node: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(node, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t;
      if (code !== 0) reject(new Error(`${path.basename(node)} ${args.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve(ms);
    });
  });
}

export async function runExecPluginBench(bed: TestBedInfo, print: (line: string) => void = console.log): Promise<void> {
  // one audit line and two EMF metric lines per issuance would drown the figures
  logger.setLogLevel('ERROR');
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kl-bench-exec-'));
  const stack = await startLocalStack({ env: { ...process.env, KUBELEASE_HOME: path.join(tmp, 'home') }, bed, tablePrefix: `bench-exec-${Date.now().toString(36)}`, mount: 'bench-exec', port: 0, sweepSeconds: 0, log: () => {}, requestLog: () => {} });
  try {
    const ci = principal(stack.credentials.credentials, 'ci');
    const env = (cacheDir: string): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH ?? '',
      HOME: tmp,
      KUBECACHEDIR: cacheDir,
      KUBELEASE_ADDR: stack.url,
      AWS_ACCESS_KEY_ID: ci.access_key_id,
      AWS_SECRET_ACCESS_KEY: ci.secret_access_key,
      AWS_SESSION_TOKEN: ci.session_token ?? '',
      AWS_EC2_METADATA_DISABLED: 'true',
      KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}',
    });
    const args = [BIN, 'exec-credential', 'bench-exec/demo-generated', '-n', 'default'];
    const nodes = [...new Set([process.execPath, '/usr/bin/node'].filter((n) => existsSync(n)))];

    print('');
    print(`kubectl exec plugin (kubelease exec-credential), medians of ${HIT_ROUNDS} runs, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}`);
    let floor = NaN;
    for (const node of nodes) {
      const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
      const warm = env(path.join(tmp, `warm-${nodes.indexOf(node)}`));
      await timedRun(node, args, warm); // issue once: every run below is a cache hit (also fills the compile cache)
      await timedRun(node, args, warm);
      const base: number[] = [];
      const hit: number[] = [];
      for (let i = 0; i < HIT_ROUNDS; i++) {
        base.push(await timedRun(node, ['-e', '0'], warm));
        hit.push(await timedRun(node, args, warm));
      }
      const b = median(base);
      const h = median(hit);
      if (node === process.execPath) floor = b;
      print(`  cache hit   node ${version.padEnd(9)} ${h.toFixed(1).padStart(7)} ms   node -e 0: ${b.toFixed(1).padStart(6)} ms   ratio ${(h / b).toFixed(2)}× (goal ≤ 1.30×)`);
    }
    const cold: number[] = [];
    for (let i = 0; i < ROUNDS; i++) cold.push(await timedRun(process.execPath, args, env(path.join(tmp, `cold-${i}`))));
    const c = median(cold);
    print(`  cold miss   node ${process.version.padEnd(9)} ${c.toFixed(1).padStart(7)} ms   ${(c / floor).toFixed(1)}× node -e 0 (empty cache: loads the SDK and signer, signs, issues a token on the local stack)`);
  } finally {
    await stack.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
