/**
 * The built CLI (dist/cli, written by scripts/build-cli.mjs before the tests): plain JavaScript
 * that runs on Node without tsx, and an exec-plugin cache hit that loads one small file and Node
 * built-ins — not the router, the AWS SDK, the signer or YAML, which are bundled behind it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { registerHooks } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheKey } from '../../../lib/cli/cache/key.js';
import { cacheDir, checkDir, writeEntry } from '../../../lib/cli/cache/store.js';

const run = promisify(execFile);
const repo = process.cwd(); // jest runs from the repository root
const BIN = path.join(repo, 'bin', 'kubelease.cjs');
const META = path.join(repo, 'node_modules', '.cache', 'kubelease', 'cli-meta.json'); // scripts/build-cli.mjs

interface Output {
  bytes: number;
  imports: { path: string; kind: string; external?: boolean }[];
  inputs: Record<string, unknown>;
}
interface Meta {
  entry: { outputs: Record<string, Output> };
  full: { outputs: Record<string, Output> };
}

function meta(): Meta {
  if (!existsSync(META)) throw new Error('dist/cli is not built: run the tests with npm test (it builds the CLI first) or npm run build:cli');
  return JSON.parse(readFileSync(META, 'utf8')) as Meta;
}

describe('the built CLI', () => {
  it('keeps the cache-hit path in one small file that needs Node built-ins only', () => {
    const outputs = Object.entries(meta().entry.outputs);
    expect(outputs.map(([f]) => f)).toEqual(['dist/cli/kubelease.cjs']);
    const [, out] = outputs[0]!;
    const imports = out.imports.map((i) => `${i.kind} ${i.path}`);
    expect(imports.filter((i) => !/^require-call node:/.test(i))).toEqual(['dynamic-import ./full.mjs']);
    const inputs = Object.keys(out.inputs);
    expect(inputs.filter((i) => !i.startsWith('lib/cli/'))).toEqual([]);
    for (const lazy of ['lib/cli/router.ts', 'lib/cli/client/signer.ts', 'lib/cli/client/broker.ts', 'lib/cli/exec/obtain.ts', 'lib/cli/kubeconfig/merge.ts']) expect(inputs).not.toContain(lazy);
    expect(out.bytes).toBeLessThan(20_000);
  });

  it('bundles the SDK, the signer and YAML into the lazily loaded build', () => {
    const all = Object.values(meta().full.outputs).flatMap((o) => Object.keys(o.inputs));
    // the client ships without the broker: no engine, domain, adapters, lambda or local code
    expect([...new Set(all)].filter((i) => !i.startsWith('lib/cli/') && !i.startsWith('node_modules/'))).toEqual([]);
    expect(all.some((i) => i.includes('@aws-sdk/credential-provider-node'))).toBe(true);
    expect(all.some((i) => i.includes('@smithy/signature-v4'))).toBe(true);
    expect(all.some((i) => i.includes('node_modules/yaml/'))).toBe(true);
    const externals = Object.values(meta().full.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
    expect([...new Set(externals)].filter((e) => !e.startsWith('node:') && !/^[a-z_]+$/.test(e))).toEqual([]); // built-ins only: nothing from node_modules at run time
  });

  // tracing require() needs module.registerHooks (Node >= 22.15); npm test runs Node 24
  (typeof registerHooks === 'function' ? it : it.skip)('answers a cache hit loading the bin, one entry file and built-ins only (traced at run time)', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'kl-bundle-'));
    try {
      const trace = path.join(home, 'trace');
      const internals = path.join(home, 'internals');
      const env = { PATH: process.env.PATH ?? '', HOME: home, KUBECACHEDIR: path.join(home, 'cache'), AWS_ACCESS_KEY_ID: 'ASIATRACE', KUBELEASE_TRACE_MODULES: trace, KUBELEASE_TRACE_INTERNALS: internals };
      const dir = cacheDir(env);
      checkDir(dir, true);
      const now = Date.now();
      const key = cacheKey({ addr: 'http://127.0.0.1:9', mount: 'local', role: 'demo', clusterRoleBinding: false, identity: 'key:ASIATRACE' });
      writeEntry(dir, key, { v: 1, token: 'cached-token', issued_at: now, expires_at: now + 3_600_000, lease_id: 'l', namespace: 'default', service_account: 's', kubernetes_host: 'https://k', kubernetes_ca_cert: '' });
      const hook = path.join(repo, 'test', 'support', 'trace-modules.cjs');
      const { stdout, stderr } = await run(process.execPath, ['--require', hook, BIN, 'exec-credential', 'local/demo', '--addr', 'http://127.0.0.1:9'], { env });
      expect(stderr).toBe('');
      expect(JSON.parse(stdout).status.token).toBe('cached-token');
      const loaded = [...new Set(readFileSync(trace, 'utf8').trim().split('\n'))];
      const files = loaded.filter((u) => u.startsWith('file:')).map((u) => path.relative(repo, new URL(u).pathname));
      expect(files.filter((f) => !f.startsWith('test/support/')).sort()).toEqual(['bin/kubelease.cjs', 'dist/cli/kubelease.cjs']);
      expect(loaded.filter((u) => !u.startsWith('file:') && !u.startsWith('node:'))).toEqual([]);
      // nor the costly parts of Node: crypto, streams (kubectl reads a pipe: written with fs.writeSync), net
      const nodeInternals = readFileSync(internals, 'utf8').split('\n');
      for (const heavy of ['NativeModule crypto', 'NativeModule stream', 'NativeModule net', 'NativeModule http']) expect(nodeInternals).not.toContain(heavy);
      expect(nodeInternals).toContain('NativeModule internal/util/parse_args/parse_args'); // the list is real

      // the same run on a miss does load the full build: the trace would have shown it
      rmSync(trace);
      await run(process.execPath, ['--require', hook, BIN, 'exec-credential', 'local/demo', '--addr', 'http://127.0.0.1:9', '--force-refresh'], { env }).catch(() => undefined);
      expect(readFileSync(trace, 'utf8')).toContain('dist/cli/full.mjs');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  // the machine's own Node (20 here) as well as the project's Node 24
  const nodes = [...new Set([process.execPath, '/usr/bin/node', '/usr/local/bin/node'].filter((n) => existsSync(n)))];
  it.each(nodes)('runs on %s without tsx', async (node) => {
    const { stdout } = await run(node, [BIN, '--version'], { env: { PATH: process.env.PATH ?? '' } });
    expect(stdout).toMatch(/^kubelease \d+\.\d+\.\d+\n$/);
  });
});
