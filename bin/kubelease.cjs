#!/usr/bin/env node
// The `kubelease` bin: plain JavaScript for any Node >= 20, no tsx. It turns on Node's compile
// cache (Node >= 22.1) and loads the bundle scripts/build-cli.mjs writes to dist/cli. CommonJS
// on purpose: it is the cheapest way into Node for the exec plugin's cache hit.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

try {
  require('node:module').enableCompileCache?.();
} catch {
  // a read-only or missing cache directory only costs speed
}
const entry = path.join(__dirname, '..', 'dist', 'cli', 'kubelease.cjs');
if (!existsSync(entry)) {
  process.stderr.write('kubelease: the CLI is not built (dist/cli is missing); fix: run npm run build:cli in the kubelease checkout\n');
  process.exit(1);
}
require(entry);
