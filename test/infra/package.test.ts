/**
 * The construct as another CDK app gets it: `npm pack` (prepack builds dist/), a scratch app
 * that depends on the tarball, `import { KubeleaseBroker } from 'kubelease/infra'` from JS and
 * from TypeScript, synth, and the six functions deploy the package's own prebuilt bundles.
 *
 * Bounded: aws-cdk-lib and constructs come from this repository's node_modules (file: links),
 * the package's own dependencies from the npm cache (--prefer-offline). Each step prints its
 * duration; the whole test is reported by jest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Json } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
const NODE = existsSync(join(BIN, 'node')) ? join(BIN, 'node') : process.execPath;
const env = { ...process.env, PATH: `${BIN}:${process.env.PATH ?? ''}`, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

let scratch: string;
let packed: { filename: string; files: { path: string }[] };
const timings: string[] = [];

function timed<T>(what: string, run: () => T): T {
  const t = Date.now();
  const out = run();
  timings.push(`${what} ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return out;
}
const sh = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kl-consumer-'));
  const out = timed('npm pack (tsc + esbuild bundles)', () => sh('npm', ['pack', '--json', '--pack-destination', scratch], ROOT));
  packed = (JSON.parse(out) as (typeof packed)[])[0] as typeof packed;
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      private: true,
      type: 'module',
      dependencies: {
        kubelease: `file:./${packed.filename}`,
        'aws-cdk-lib': `file:${join(ROOT, 'node_modules', 'aws-cdk-lib')}`,
        constructs: `file:${join(ROOT, 'node_modules', 'constructs')}`,
      },
    }),
  );
  // --legacy-peer-deps: the peers (aws-cdk-lib, constructs) are the file: links above; npm's
  // arborist crashes placing peers onto linked directories ("reading 'matches'").
  timed('npm install (offline cache)', () =>
    sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', '--loglevel=error'], scratch),
  );
}, 600_000);

afterAll(() => {
  process.stderr.write(`[package test] ${timings.join('; ')}\n`);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('the tarball holds the compiled construct, its types and six prebuilt bundles, no sources or tests', () => {
  const files = packed.files.map((f) => f.path);
  for (const f of ['dist/infra/index.js', 'dist/infra/index.d.ts', 'dist/infra/broker.d.ts', 'package.json', 'docs/deploy.md']) expect(files).toContain(f);
  for (const fn of ['config', 'roles', 'creds', 'leases', 'expire', 'sweep']) expect(files).toContain(`dist/lambda/${fn}/index.mjs`);
  expect(files.filter((f) => /^(test|functions|lib|infra|scripts)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
});

test('a JS CDK app imports kubelease/infra and synthesizes with the bundled Lambda code', () => {
  writeFileSync(
    join(scratch, 'app.mjs'),
    `import { App, Stack } from 'aws-cdk-lib';
import { KubeleaseBroker } from 'kubelease/infra';
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer', { env: { account: '111111111111', region: 'eu-west-1' } });
new KubeleaseBroker(stack, 'Kubelease', { adminPrincipals: ['arn:aws:iam::111111111111:role/platform-admin'], tracing: true });
app.synth();
`,
  );
  timed('synth', () => sh(NODE, ['app.mjs'], scratch));
  const out = join(scratch, 'cdk.out');
  const template = JSON.parse(readFileSync(join(out, 'Consumer.template.json'), 'utf8')) as { Resources: Record<string, Json> };
  const assets = JSON.parse(readFileSync(join(out, 'Consumer.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string; packaging: string } }> };
  const fns = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  expect(fns.map(([id]) => id.replace(/Function[0-9A-F]{8}$/, '')).sort()).toEqual(
    ['KubeleaseConfig', 'KubeleaseCreds', 'KubeleaseExpire', 'KubeleaseLeases', 'KubeleaseRoles', 'KubeleaseSweep'],
  );
  for (const [id, fn] of fns) {
    expect([id, fn.Properties.Handler, fn.Properties.Runtime, fn.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED]).toEqual([id, 'index.handler', 'nodejs24.x', 'true']);
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const asset = assets.files[hash];
    expect(asset?.source.packaging).toBe('zip');
    const dir = join(out, asset?.source.path ?? '');
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toContain('KUBELEASE_LEASES_TABLE');
  }
});

test('the bundle loads on its own: a handler, nothing resolved from outside it', () => {
  const bundle = join(scratch, 'node_modules', 'kubelease', 'dist', 'lambda', 'creds', 'index.mjs');
  // run from an empty directory: any import the bundle did not inline would fail here
  const empty = mkdtempSync(join(tmpdir(), 'kl-empty-'));
  try {
    const kind = sh(NODE, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`], empty);
    expect(kind.trim()).toBe('function');
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('a TypeScript CDK app gets the types from the package exports', () => {
  writeFileSync(
    join(scratch, 'app.ts'),
    `import { App, Duration, Stack } from 'aws-cdk-lib';
import { KubeleaseBroker, type KubeleaseBrokerProps } from 'kubelease/infra';
const props: KubeleaseBrokerProps = { adminPrincipals: ['arn:aws:iam::111111111111:role/a'], sweepSchedule: Duration.minutes(5), memorySize: { creds: 2048 } };
const broker: KubeleaseBroker = new KubeleaseBroker(new Stack(new App(), 'S'), 'K', props);
export const url: string = broker.api.url;
// @ts-expect-error -- not a prop: the types are the real ones, not any
new KubeleaseBroker(new Stack(new App(), 'T'), 'K', { adminPrincipals: [], nope: true });
`,
  );
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: [] }, files: ['app.ts'] }),
  );
  timed('tsc (consumer)', () => sh(NODE, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], scratch));
});
