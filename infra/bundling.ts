/**
 * How the Lambda entries under functions/ become deployable code, in one place for both paths:
 * NodejsFunction bundling at synth (this repository) and `npm pack`'s prebuilt bundles
 * (scripts/build-package.ts), which other CDK apps deploy without esbuild or the sources.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** Resolved from this file so other CDK apps that import the construct find the package's own code. */
const HERE = dirname(fileURLToPath(import.meta.url));
/** The package root: `<root>/infra` in the repository, `<root>/dist/infra` in the packed package. */
export const PACKAGE_ROOT = existsSync(join(HERE, '..', 'package.json')) ? join(HERE, '..') : join(HERE, '..', '..');
/** Prebuilt bundles (`<dir>/<fn>/index.mjs`) exist next to the compiled construct only: `dist/lambda`. */
export const PREBUILT_DIR = join(HERE, '..', 'lambda');

/** ESM bundles: esbuild's require() shim needs a real `require` for CommonJS dependencies. */
export const ESM_REQUIRE_BANNER = "import { createRequire as __kl_createRequire } from 'node:module'; const require = __kl_createRequire(import.meta.url);";

export const ESBUILD_TARGET = 'node24';

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
};

/** The prebuilt bundle directory of `fn`, when this copy of the construct ships one. */
export function prebuiltBundle(fn: string): string | undefined {
  const dir = join(PREBUILT_DIR, fn);
  return existsSync(join(dir, 'index.mjs')) ? dir : undefined;
}
