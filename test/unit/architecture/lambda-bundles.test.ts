/**
 * What is deployed, read from the bundles themselves: each Lambda entry under functions/ is
 * bundled for Lambda (infra/bundling.ts), and every module esbuild reached from
 * the entry (tree-shaken or not) must be no test double (lib/adapters/memory), nothing local
 * (lib/local, e.g. the local key box), no test code and no CDK. The lint rule forbids the
 * imports; this checks the outcome.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BROKER_FUNCTIONS } from '../../../infra/props.js';
import { lambdaEsbuildOptions } from '../../../infra/bundling.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let inputs: Record<string, string[]>;

beforeAll(async () => {
  // modules resolved as the Lambda bundles resolve them
  const { target, mainFields } = lambdaEsbuildOptions({}, ROOT);
  const result = await build({
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    target,
    mainFields,
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(BROKER_FUNCTIONS.map((fn) => [fn, join(ROOT, 'functions', `${fn}.ts`)])),
    outdir: join(ROOT, 'dist', 'bundle-probe'),
    logLevel: 'silent',
  });
  const graph = result.metafile.inputs;
  const reachable = (entry: string): string[] => {
    const seen = new Set<string>([entry]);
    for (const file of seen) for (const i of graph[file]?.imports ?? []) if (!i.external) seen.add(i.path);
    return [...seen];
  };
  inputs = Object.fromEntries(BROKER_FUNCTIONS.map((fn) => [fn, reachable(`functions/${fn}.ts`)]));
}, 120_000);

test('every broker function is bundled', () => {
  expect(Object.keys(inputs).sort()).toEqual(['config', 'creds', 'expire', 'leases', 'roles', 'sweep']);
});

test.each(['config', 'creds', 'expire', 'leases', 'roles', 'sweep'])('the %s bundle holds no test double, local part, test code or CDK', (fn) => {
  const ours = inputs[fn]!.filter((p) => !p.startsWith('node_modules/'));
  expect(ours).toContain('lib/lambda/runtime.ts'); // the probe sees the real wiring
  expect(ours).toContain('lib/adapters/kms/kms-box.ts');
  expect(ours.filter((p) => /^(lib\/local|lib\/adapters\/memory|test|infra|scripts)\//.test(p))).toEqual([]);
  expect(inputs[fn]!.filter((p) => /node_modules\/(aws-cdk-lib|constructs|cdk-nag|esbuild)\//.test(p))).toEqual([]);
});
