/**
 * The built CLI (dist/cli, written by scripts/build-cli.mjs before the tests): plain JavaScript
 * that runs on Node without tsx, and an exec-plugin cache hit that loads Node built-ins and the
 * entry's own small chunks only — not the router, the AWS SDK, the signer or YAML.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheKey } from '../../../lib/cli/cache/key.js';
import { cacheDir, checkDir, writeEntry } from '../../../lib/cli/cache/store.js';

const run = promisify(execFile);
const repo = process.cwd(); // jest runs from the repository root
const BIN = path.join(repo, 'bin', 'kubelease.mjs');
const META = path.join(repo, 'dist', 'cli-meta.json');
const ENTRY = 'dist/cli/kubelease.js';

interface Meta {
  outputs: Record<string, { bytes: number; imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, unknown> }>;
}

function meta(): Meta {
  if (!existsSync(META)) throw new Error('dist/cli is not built: run the tests with npm test (it builds the CLI first) or npm run build:cli');
  return JSON.parse(readFileSync(META, 'utf8')) as Meta;
}

/** Outputs loaded by static imports from the entry (what every run loads before any dynamic import). */
function staticClosure(m: Meta): string[] {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of m.outputs[f]!.imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(ENTRY);
  return [...seen];
}

describe('the built CLI', () => {
  it('loads only Node built-ins statically from its entry: the cache-hit path', () => {
    const m = meta();
    const closure = staticClosure(m);
    const externals = closure.flatMap((f) => m.outputs[f]!.imports.filter((i) => i.external).map((i) => i.path));
    expect(externals.filter((e) => !e.startsWith('node:'))).toEqual([]);
    const inputs = closure.flatMap((f) => Object.keys(m.outputs[f]!.inputs));
    expect(inputs.filter((i) => !i.startsWith('lib/cli/'))).toEqual([]);
    for (const lazy of ['lib/cli/router.ts', 'lib/cli/client/signer.ts', 'lib/cli/client/broker.ts', 'lib/cli/exec/obtain.ts', 'lib/cli/kubeconfig/merge.ts']) expect(inputs).not.toContain(lazy);
    const bytes = closure.reduce((n, f) => n + m.outputs[f]!.bytes, 0);
    expect(bytes).toBeLessThan(40_000);
  });

  it('bundles the SDK, the signer and YAML into lazily loaded chunks', () => {
    const m = meta();
    const all = Object.values(m.outputs).flatMap((o) => Object.keys(o.inputs));
    expect(all.some((i) => i.includes('@aws-sdk/credential-provider-node'))).toBe(true);
    expect(all.some((i) => i.includes('@smithy/signature-v4'))).toBe(true);
    expect(all.some((i) => i.includes('node_modules/yaml/'))).toBe(true);
  });

  it('answers a cache hit without resolving any lazy chunk (traced at run time)', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'kl-bundle-'));
    try {
      const env = { PATH: process.env.PATH ?? '', HOME: home, KUBECACHEDIR: path.join(home, 'cache'), AWS_ACCESS_KEY_ID: 'ASIATRACE', KUBELEASE_TRACE_IMPORTS: path.join(home, 'trace') };
      const dir = cacheDir(env);
      checkDir(dir, true);
      const now = Date.now();
      const key = cacheKey({ addr: 'http://127.0.0.1:9', mount: 'local', role: 'demo', clusterRoleBinding: false, identity: 'key:ASIATRACE' });
      writeEntry(dir, key, { v: 1, token: 'cached-token', issued_at: now, expires_at: now + 3_600_000, lease_id: 'l', namespace: 'default', service_account: 's', kubernetes_host: 'https://k', kubernetes_ca_cert: '' });
      const hook = path.join(repo, 'test', 'support', 'trace-imports.mjs');
      const { stdout, stderr } = await run(process.execPath, ['--import', hook, BIN, 'exec-credential', 'local/demo', '--addr', 'http://127.0.0.1:9'], { env });
      expect(stderr).toBe('');
      expect(JSON.parse(stdout).status.token).toBe('cached-token');
      const loaded = readFileSync(env.KUBELEASE_TRACE_IMPORTS, 'utf8').trim().split('\n');
      const files = [...new Set(loaded)].filter((u) => u.startsWith('file:')).map((u) => path.relative(repo, new URL(u).pathname));
      const m = meta();
      expect(files.sort()).toEqual(['bin/kubelease.mjs', ...staticClosure(m)].sort());
      expect(loaded.filter((u) => !u.startsWith('file:') && !u.startsWith('node:'))).toEqual([]);
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
