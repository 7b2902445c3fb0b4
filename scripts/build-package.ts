/**
 * `npm pack` / `npm publish` (prepack): the importable construct library under dist/.
 *
 *   dist/infra/*.js + .d.ts      the construct (`kubelease/infra`), compiled by tsc (tsconfig.build.json)
 *   dist/lib/...                 the few lib/ modules it imports (tables, routes, metric names)
 *   dist/lambda/<fn>/index.mjs   the six Lambda bundles, built here with the same esbuild options
 *                                and plugin synth uses (infra/bundling.ts), with the X-Ray tracer:
 *                                the same bundles serve deployments with tracing on and off
 *
 * A CDK app that installs the package deploys these bundles as they are: no esbuild, no sources,
 * no lock file needed on its side.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BROKER_FUNCTIONS } from '../infra/props.js';
import { lambdaEsbuildOptions } from '../infra/bundling.js';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const started = Date.now();
// only what this script writes: dist/cli is the CLI's (scripts/build-cli.mjs, run by `prepare`
// right after this on npm pack), and other test runs may be using it
for (const dir of ['infra', 'lib', 'lambda']) rmSync(join(dist, dir), { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  process.stderr.write('build-package: tsc failed\n');
  process.exit(tsc.status ?? 1);
}

await build(
  lambdaEsbuildOptions(
    Object.fromEntries(BROKER_FUNCTIONS.map((fn) => [`${fn}/index`, join(root, 'functions', `${fn}.ts`)])),
    join(dist, 'lambda'),
    { tracer: true },
  ),
);
process.stderr.write(`build-package: dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
