/**
 * How the Lambda entries under functions/ become deployable code, in one place for both paths:
 * CDK asset bundling at synth (this repository, or a `functionsDir` of your own) and `npm pack`'s
 * prebuilt bundles (scripts/build-package.ts), which other CDK apps deploy without esbuild or the
 * sources. Both run esbuild's API with the same options and plugin (NodejsFunction's bundling runs
 * esbuild's command line, which takes no plugins).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { BuildOptions, Plugin } from 'esbuild';
import { pruneClientNode } from './prune-client-node.js';

/** Resolved from this file so other CDK apps that import the construct find the package's own code. */
const HERE = dirname(fileURLToPath(import.meta.url));
/** The package root: `<root>/infra` in the repository, `<root>/dist/infra` in the packed package. */
export const PACKAGE_ROOT = existsSync(join(HERE, '..', 'package.json')) ? join(HERE, '..') : join(HERE, '..', '..');
/** Prebuilt bundles (`<dir>/<fn>/index.mjs`) exist next to the compiled construct only: `dist/lambda`. */
export const PREBUILT_DIR = join(HERE, '..', 'lambda');

/** ESM bundles: esbuild's require() shim needs a real `require` for CommonJS dependencies. */
export const ESM_REQUIRE_BANNER = "import { createRequire as __kl_createRequire } from 'node:module'; const require = __kl_createRequire(import.meta.url);";

export const ESBUILD_TARGET = 'node24';

/**
 * `yaml`'s ES module build: the same code as its Node entry, which is CommonJS that esbuild wraps
 * file by file and runs whole at load. Scope-hoisted instead, the creds bundle is 18 KB smaller
 * and its init about 5 % shorter (issue 13). The builds differ only where we do not go: warnings
 * through console.warn (we parse with logLevel silent) and YAML 1.1's !!binary (we parse 1.2).
 */
const YAML_ESM = join(dirname(createRequire(import.meta.url).resolve('yaml/package.json')), 'browser', 'index.js');

/**
 * Packages replaced in every bundle: by stubs, what a dependency imports but the broker never
 * runs (see each stub); `yaml` by its ES module build. Absolute paths: esbuild resolves an alias
 * from its working directory.
 */
export const BUNDLE_ALIASES: Record<string, string> = { undici: join(HERE, 'bundle-stubs', 'undici.ts'), yaml: YAML_ESM };

/** What lib/lambda/tracing.ts imports, only when POWERTOOLS_TRACE_ENABLED is "true". */
const TRACER_IMPORTS = /^@aws-lambda-powertools\/tracer(\/middleware)?$/;

/** The message a bundle built without the tracer answers a request for tracing with. */
const TRACER_LEFT_OUT = 'this bundle was built without the X-Ray tracer (tracing: false at synth); deploy with tracing: true to trace';

/**
 * Leaves the X-Ray tracer out of a bundle: Powertools Tracer and the X-Ray SDK under it (about
 * 125 KB minified, 13 % of the creds bundle), which functions deployed with tracing off never load.
 * Its imports resolve to a module whose exports throw TRACER_LEFT_OUT; tracing.ts then logs a
 * warning and serves untraced.
 */
function leaveOutTracer(): Plugin {
  const namespace = 'kubelease-tracer-left-out';
  return {
    name: 'kubelease-leave-out-tracer',
    setup(build) {
      build.onResolve({ filter: TRACER_IMPORTS }, (args) => ({ path: args.path, namespace }));
      build.onLoad({ filter: /.*/, namespace }, () => ({
        contents: `const leftOut = () => { throw new Error(${JSON.stringify(TRACER_LEFT_OUT)}); };
export class Tracer { constructor() { leftOut(); } }
export const captureLambdaHandler = leftOut;`,
        loader: 'js',
      }));
    },
  };
}

/** What goes into a bundle beyond its entry's code. */
export interface BundleContents {
  /** the X-Ray tracer (Powertools Tracer): needed where the functions deploy with tracing on; default true */
  tracer?: boolean;
}

/**
 * NODE_OPTIONS of every function. Source-mapped stack traces are opt-in (prop `sourceMaps`):
 * --enable-source-maps makes Node parse each bundle's map at load, 8–18 % of a cold start.
 * The maps ship beside the bundles either way.
 */
export function lambdaEnvironmentNodeOptions(sourceMaps = false): string | undefined {
  return sourceMaps ? '--enable-source-maps' : undefined;
}

/** The prebuilt bundle directory of `fn`, when this copy of the construct ships one. */
export function prebuiltBundle(fn: string): string | undefined {
  const dir = join(PREBUILT_DIR, fn);
  return existsSync(join(dir, 'index.mjs')) ? dir : undefined;
}

/**
 * The Lambda bundles' esbuild options: minified ESM for Node 24 with the AWS SDK inside (pinned by
 * package-lock.json; the runtime's copy is not resolvable from ES modules anyway), source maps
 * beside them without the sources, the stubs above, and only the client-node code the broker
 * calls (prune-client-node.ts). What synth bundles, `npm pack` prebuilds
 * (scripts/build-package.ts) and the bench measures (test/bench/cold-start.bench.ts).
 */
export function lambdaEsbuildOptions(entryPoints: Record<string, string>, outdir: string, { tracer = true }: BundleContents = {}): BuildOptions {
  return {
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ESBUILD_TARGET,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    alias: BUNDLE_ALIASES,
    plugins: [pruneClientNode(), ...(tracer ? [] : [leaveOutTracer()])],
    outExtension: { '.js': '.mjs' },
    entryPoints,
    outdir,
    logLevel: 'warning',
  };
}

/**
 * Bundles one Lambda entry into `outdir/index.mjs` (+ map): what synth runs in a child process,
 * which imports it by this module's URL (EsbuildInChildProcess).
 * @public
 */
export async function bundleLambdaEntry(entry: string, outdir: string, contents: BundleContents = {}): Promise<void> {
  const { build } = await import('esbuild');
  await build(lambdaEsbuildOptions({ index: entry }, outdir, contents));
}

/**
 * Runs bundleLambdaEntry in a child Node process (through tsx when this module is TypeScript, in
 * the repository): CDK's local bundling is synchronous, and esbuild runs plugins only in its
 * asynchronous API. The entry and the contents are fields because CDK keys its bundling cache on
 * the options' JSON: without the entry, the six functions would share the first one's bundle.
 */
class EsbuildInChildProcess implements ILocalBundling {
  constructor(
    readonly entry: string,
    readonly contents: BundleContents,
  ) {}

  tryBundle(outputDir: string): boolean {
    const self = import.meta.url;
    const args = [this.entry, outputDir, this.contents].map((a) => JSON.stringify(a)).join(', ');
    const script = `const { bundleLambdaEntry } = await import(${JSON.stringify(self)}); await bundleLambdaEntry(${args});`;
    const loader = extname(self) === '.ts' ? ['--import', 'tsx'] : [];
    const run = spawnSync(process.execPath, [...loader, '--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0) throw new Error(`bundling ${this.entry} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`})`);
    return true;
  }
}

/**
 * The code of a function whose entry is a source file, bundled at synth: skipped, as all
 * bundling, for stacks outside `aws:cdk:bundling-stacks`. The Docker image is never pulled:
 * local bundling either succeeds or fails the synth.
 */
export function bundledCode(entry: string, contents: BundleContents = {}): lambda.Code {
  return lambda.Code.fromAsset(dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: { image: lambda.Runtime.NODEJS_24_X.bundlingImage, local: new EsbuildInChildProcess(entry, contents) },
  });
}
