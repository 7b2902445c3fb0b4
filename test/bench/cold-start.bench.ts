/**
 * Issue 13's cold-start rows, from the real build: the six Lambda entries bundled with the
 * options synth and `npm pack` build them with (infra/bundling.ts: client-node cut to the calls the
 * broker makes), and
 *  - the size of each bundle (the code Lambda loads; source maps are separate files);
 *  - the creds module's init (import of the bundle in a fresh process, with the NODE_OPTIONS the
 *    construct deploys) as a ratio to a minimal middy + Powertools + DynamoDB-client handler
 *    built the same way, median of `runs` fresh processes each, run alternately;
 *  - the alternative issue 13 §3 asks to measure when a goal cannot be met with client-node: the
 *    creds bundle with client-node's generated API groups (and so its models) replaced by empty
 *    classes (support/no-generated-kube-code.ts), sized and timed the same way. It is a lower
 *    bound for hand-written REST calls on the same transport: imported only, never called.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { lambdaEsbuildOptions, lambdaEnvironmentNodeOptions } from '../../infra/bundling.js';
import { BROKER_FUNCTIONS, DEFAULTS } from '../../infra/props.js';
import { kb, median, ms, type Row } from './support/report.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** client-node's generated API groups and server list → empty classes of the same names */
const withoutGeneratedKubeCode: Plugin = {
  name: 'without-generated-kube-code',
  setup(b) {
    const stub = path.join(ROOT, 'test/bench/support/no-generated-kube-code.ts');
    b.onResolve({ filter: /@kubernetes\/client-node\/dist\/gen\/(apis\/\w+Api|servers)\.js$/ }, () => ({ path: stub }));
  },
};

export interface ColdStartOptions {
  runs: number;
  print: (line: string) => void;
}

/** The environment a deployed function starts with (values are placeholders: nothing is called). */
const lambdaEnv = (nodeOptions: string | undefined): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'eu-west-1',
  AWS_LAMBDA_FUNCTION_NAME: 'kubelease-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  POWERTOOLS_SERVICE_NAME: 'kubelease',
  POWERTOOLS_METRICS_NAMESPACE: 'Kubelease/Bench',
  POWERTOOLS_TRACE_ENABLED: 'false',
  KUBELEASE_ADMIN_PRINCIPALS: 'arn:aws:iam::123456789012:role/platform-admin',
  KUBELEASE_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000',
  KUBELEASE_CONFIG_TABLE: 'config',
  KUBELEASE_ROLES_TABLE: 'roles',
  KUBELEASE_LEASES_TABLE: 'leases',
  ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
});

/** ms to import `file` in a fresh Node process (module load + evaluation: Lambda's init of our code). */
function importTime(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`import of ${file} failed (${code}): ${err.trim()}`))));
  });
}

export async function runColdStartBench(o: ColdStartOptions): Promise<Row[]> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'kl-bench-bundles-'));
  try {
    const entries = Object.fromEntries(BROKER_FUNCTIONS.map((fn) => [`${fn}/index`, path.join(ROOT, 'functions', `${fn}.ts`)]));
    // as synth bundles them with the construct's defaults: tracing off, so no X-Ray tracer
    const contents = { tracer: DEFAULTS.tracing };
    await build(lambdaEsbuildOptions({ ...entries, 'minimal/index': path.join(ROOT, 'test/bench/support/minimal-handler.ts') }, out, contents));
    const size = (fn: string) => statSync(path.join(out, fn, 'index.mjs')).size;
    const sizes = Object.fromEntries(BROKER_FUNCTIONS.map((fn) => [fn, size(fn)]));
    const minimalSize = size('minimal');
    const alt = path.join(out, 'alternative');
    const altOptions = lambdaEsbuildOptions({ 'creds/index': path.join(ROOT, 'functions', 'creds.ts') }, alt, contents);
    // first, so that the generated API groups resolve to the stub before pruning sees them
    await build({ ...altOptions, plugins: [withoutGeneratedKubeCode, ...(altOptions.plugins ?? [])] });
    const altFile = path.join(alt, 'creds', 'index.mjs');
    const altSize = statSync(altFile).size;

    const nodeOptions = lambdaEnvironmentNodeOptions();
    /** imported alternately, each after a warm-up import (disk cache) */
    const bundles = {
      creds: { file: path.join(out, 'creds', 'index.mjs'), env: lambdaEnv(nodeOptions) },
      minimal: { file: path.join(out, 'minimal', 'index.mjs'), env: lambdaEnv(undefined) },
      alternative: { file: altFile, env: lambdaEnv(nodeOptions) },
    };
    const times = { creds: [] as number[], minimal: [] as number[], alternative: [] as number[] };
    for (const { file, env } of Object.values(bundles)) await importTime(file, env);
    for (let i = 0; i < o.runs; i++) {
      for (const [name, { file, env }] of Object.entries(bundles)) times[name as keyof typeof bundles].push(await importTime(file, env));
    }
    const c = median(times.creds);
    const m = median(times.minimal);
    const a = median(times.alternative);
    const largest = Math.max(...Object.values(sizes));
    o.print('');
    o.print(`Lambda bundles (esbuild as synth builds them: minified ESM, node24, client-node cut to the broker's calls, ${contents.tracer ? 'with' : 'no'} X-Ray tracer as tracing is ${contents.tracer ? 'on' : 'off'} by default), ${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(1)}`);
    o.print(`  ${BROKER_FUNCTIONS.map((fn) => `${fn} ${kb(sizes[fn] as number)}`).join(', ')}; minimal handler ${kb(minimalSize)}`);
    o.print(`  module init, median of ${o.runs} fresh processes (${process.version}${nodeOptions ? `, NODE_OPTIONS=${nodeOptions}` : ''}): creds ${ms(c)}, minimal handler ${ms(m)} → ${(c / m).toFixed(2)}×`);
    o.print(`  alternative, creds without client-node's generated API groups and models (a lower bound for hand-written REST calls): ${kb(altSize)}, init ${ms(a)} → ${(a / m).toFixed(2)}× the minimal handler`);
    return [
      { measure: 'creds Lambda bundle (minified, as CDK builds it)', value: `${kb(sizes.creds as number)} (largest of six: ${kb(largest)})`, anchor: `minimal handler ${kb(minimalSize)}`, goal: '< 1 MB', holds: largest < 1024 * 1024 },
      { measure: `creds module init, cold, median of ${o.runs}`, value: ms(c), anchor: `minimal handler ${ms(m)}`, ratio: c / m, goal: '≤ 1.5×', holds: c / m <= 1.5 },
      { measure: 'alternative: creds without client-node generated code', value: `${kb(altSize)}, init ${ms(a)}`, anchor: `minimal handler ${ms(m)}`, ratio: a / m, goal: 'report (issue 13 §3)' },
    ];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
