#!/usr/bin/env node
// The `kubelease` bin: plain JavaScript for any Node >= 20, no tsx. It turns on Node's compile
// cache (Node >= 22.1) before loading the bundle that scripts/build-cli.mjs writes to dist/cli.
import module from 'node:module';

try {
  module.enableCompileCache?.();
} catch {
  // a read-only or missing cache directory only costs speed
}
try {
  await import('../dist/cli/kubelease.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli/kubelease.js')) {
    process.stderr.write('kubelease: the CLI is not built (dist/cli is missing); fix: run npm run build:cli in the kubelease checkout\n');
    process.exit(1);
  }
  throw e;
}
