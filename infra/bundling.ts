/**
 * How the Lambda entries under functions/ become deployable code, in one place for both paths:
 * NodejsFunction bundling at synth (this repository) and `npm pack`'s prebuilt bundles
 * (scripts/build-package.ts), which other CDK apps deploy without esbuild or the sources.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

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
 * Packages replaced by stubs in every bundle: what a dependency imports but the broker never runs
 * (see each stub). Absolute paths: esbuild resolves an alias from its working directory.
 */
export const BUNDLE_ALIASES: Record<string, string> = { undici: join(HERE, 'bundle-stubs', 'undici.ts') };

/** NodejsFunction bundling (synth-time esbuild). */
export const NODEJS_BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: ESBUILD_TARGET,
  platform: 'node',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Bundle the AWS SDK too: pinned to package-lock.json, and the runtime's copy is not
  // resolvable from ES modules anyway.
  externalModules: [],
  esbuildArgs: Object.fromEntries(Object.entries(BUNDLE_ALIASES).map(([pkg, stub]) => [`--alias:${pkg}`, stub])),
};

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
 * NodejsFunction's bundling options spelled as esbuild's: what `npm pack` prebuilds
 * (scripts/build-package.ts) and what the bench measures (test/bench/cold-start.bench.ts).
 */
export function lambdaEsbuildOptions(entryPoints: Record<string, string>, outdir: string, bundling: nodejs.BundlingOptions = NODEJS_BUNDLING): BuildOptions {
  return {
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: bundling.target,
    mainFields: bundling.mainFields,
    banner: { js: ESM_REQUIRE_BANNER },
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    external: bundling.externalModules,
    alias: BUNDLE_ALIASES,
    outExtension: { '.js': '.mjs' },
    entryPoints,
    outdir,
    logLevel: 'warning',
  };
}
