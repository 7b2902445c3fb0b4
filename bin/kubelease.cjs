#!/usr/bin/env node
// The `kubelease` bin: plain JavaScript for any Node >= 20, no tsx. It loads the bundle that
// scripts/build-cli.mjs writes to dist/cli; CommonJS on purpose, the cheapest way into Node
// for the exec plugin's cache hit (the compile cache is turned on later, for the full CLI).
'use strict';
const path = require('node:path');

try {
  require(path.join(__dirname, '..', 'dist', 'cli', 'kubelease.cjs'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('kubelease.cjs')) {
    process.stderr.write('kubelease: the CLI is not built (dist/cli is missing); fix: run npm run build:cli in the kubelease checkout\n');
    process.exit(1);
  }
  throw e;
}
