#!/usr/bin/env node
/**
 * Builds the `kubelease` CLI (lib/cli, TypeScript) into plain ESM JavaScript under dist/cli, so
 * the bin runs on a user's Node >= 20 without tsx: dist/cli/kubelease.cjs holds the exec
 * plugin's cache-hit path alone (Node built-ins only, one file); dist/cli/full.mjs and its
 * chunks hold the router and each command, the AWS SDK, the signer and YAML, loaded lazily. Everything is bundled: the installed CLI needs no
 * node_modules. Run by `npm run build:cli`, `prepare` (npm install, npm pack), and by
 * `npm test` / `npm run bench` before they start.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_OUT_DIR = path.join(root, 'dist', 'cli');
export const CLI_BIN = path.join(root, 'bin', 'kubelease.cjs');

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};

/** main.ts loads the full CLI with import('./full.js'): kept as a run-time import of the other build */
const fullIsExternal = {
  name: 'full-cli-is-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/full\.js$/ }, () => ({ path: './full.mjs', external: true }));
  },
};

export async function buildCli() {
  const esbuild = await import('esbuild');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  rmSync(CLI_OUT_DIR, { recursive: true, force: true });
  mkdirSync(CLI_OUT_DIR, { recursive: true });
  // 1. the cache-hit path: one CommonJS file, Node built-ins only
  const entry = await esbuild.build({
    ...common,
    entryPoints: ['lib/cli/main.ts'],
    outfile: path.join(CLI_OUT_DIR, 'kubelease.cjs'),
    format: 'cjs',
    plugins: [fullIsExternal],
  });
  // 2. everything else: ESM, split so each command loads only what it uses
  const full = await esbuild.build({
    ...common,
    entryPoints: { full: 'lib/cli/full.ts' },
    outdir: CLI_OUT_DIR,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    format: 'esm',
    // CommonJS dependencies inside an ESM bundle still call require() for built-ins
    banner: { js: "import{createRequire as __klRequire}from'node:module';const require=__klRequire(import.meta.url);" },
    define: { 'process.env.KUBELEASE_CLI_VERSION': JSON.stringify(version) },
  });
  // esbuild's account of what went where (the bundle test reads it); not part of the package
  const metafile = { entry: entry.metafile, full: full.metafile };
  writeFileSync(path.join(root, 'dist', 'cli-meta.json'), JSON.stringify(metafile));
  return metafile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t = Date.now();
  await buildCli();
  process.stderr.write(`[kubelease] CLI built into dist/cli in ${Date.now() - t} ms (bin: bin/kubelease.cjs)\n`);
}
