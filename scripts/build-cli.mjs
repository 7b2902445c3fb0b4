#!/usr/bin/env node
/**
 * Builds the `kubelease` CLI (lib/cli, TypeScript) into plain ESM JavaScript under dist/cli, so
 * the bin runs on a user's Node >= 20 without tsx: dist/cli/kubelease.cjs holds the exec
 * plugin's cache-hit path alone (Node built-ins only, one file); dist/cli/full.mjs and its
 * chunks hold the router and each command, the AWS SDK, the signer and YAML, loaded lazily. Everything is bundled: the installed CLI needs no
 * node_modules. Run by `npm run build:cli`, `prepare` (npm install, npm pack), and by
 * `npm test` / `npm run bench` before they start.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_OUT_DIR = path.join(root, 'dist', 'cli');
export const CLI_BIN = path.join(root, 'bin', 'kubelease.cjs');
export const CLI_META = path.join(root, 'node_modules', '.cache', 'kubelease', 'cli-meta.json');

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

/**
 * Builds into a fresh directory and swaps it in, so that a CLI test or an `npm pack` running at
 * the same time never sees a half-written or missing dist/cli.
 */
export async function buildCli() {
  const esbuild = await import('esbuild');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  mkdirSync(path.dirname(CLI_OUT_DIR), { recursive: true });
  const out = mkdtempSync(path.join(path.dirname(CLI_OUT_DIR), '.cli-build-'));
  try {
    // 1. the cache-hit path: one CommonJS file, Node built-ins only
    const entry = await esbuild.build({
      ...common,
      entryPoints: ['lib/cli/main.ts'],
      outfile: path.join(out, 'kubelease.cjs'),
      format: 'cjs',
      plugins: [fullIsExternal],
    });
    // 2. everything else: ESM, split so each command loads only what it uses
    const full = await esbuild.build({
      ...common,
      entryPoints: { full: 'lib/cli/full.ts' },
      outdir: out,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      splitting: true,
      format: 'esm',
      // CommonJS dependencies inside an ESM bundle still call require() for built-ins
      banner: { js: "import{createRequire as __klRequire}from'node:module';const require=__klRequire(import.meta.url);" },
      define: { 'process.env.KUBELEASE_CLI_VERSION': JSON.stringify(version) },
    });
    const old = `${out}-old`;
    if (existsSync(CLI_OUT_DIR)) renameSync(CLI_OUT_DIR, old);
    renameSync(out, CLI_OUT_DIR);
    rmSync(old, { recursive: true, force: true });
    // esbuild's account of what went where (the bundle test reads it); not part of the package
    const tmpPrefix = `${path.relative(root, out)}/`;
    const moved = (m) => JSON.parse(JSON.stringify(m).split(tmpPrefix).join('dist/cli/'));
    const metafile = { entry: moved(entry.metafile), full: moved(full.metafile) };
    mkdirSync(path.dirname(CLI_META), { recursive: true });
    writeFileSync(CLI_META, JSON.stringify(metafile));
    return metafile;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t = Date.now();
  await buildCli();
  process.stderr.write(`[kubelease] CLI built into dist/cli in ${Date.now() - t} ms (bin: bin/kubelease.cjs)\n`);
}
