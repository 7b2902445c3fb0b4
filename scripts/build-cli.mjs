#!/usr/bin/env node
/**
 * Builds the `kubelease` CLI (lib/cli, TypeScript) into plain ESM JavaScript under dist/cli, so
 * the bin runs on a user's Node >= 20 without tsx. Code splitting keeps the entry chunk to the
 * exec plugin's cache-hit path (Node built-ins only); the router, each command, the AWS SDK,
 * the signer and YAML load lazily. Everything is bundled: the installed CLI needs no
 * node_modules. Run by `npm run build:cli`, `prepare` (npm install, npm pack), and by
 * `npm test` / `npm run bench` before they start.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_OUT_DIR = path.join(root, 'dist', 'cli');
export const CLI_BIN = path.join(root, 'bin', 'kubelease.mjs');

export async function buildCli() {
  const esbuild = await import('esbuild');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  rmSync(CLI_OUT_DIR, { recursive: true, force: true });
  mkdirSync(CLI_OUT_DIR, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { kubelease: 'lib/cli/main.ts' },
    outdir: CLI_OUT_DIR,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // CommonJS dependencies inside an ESM bundle still call require() for built-ins
    banner: { js: "import{createRequire as __klRequire}from'node:module';const require=__klRequire(import.meta.url);" },
    define: { 'process.env.KUBELEASE_CLI_VERSION': JSON.stringify(version) },
  });
  // esbuild's account of what went where (the bundle test reads it); not part of the package
  writeFileSync(path.join(root, 'dist', 'cli-meta.json'), JSON.stringify(result.metafile));
  writeFileSync(path.join(CLI_OUT_DIR, 'package.json'), '{"type":"module"}\n');
  return result.metafile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t = Date.now();
  await buildCli();
  process.stderr.write(`[kubelease] CLI built into dist/cli in ${Date.now() - t} ms (bin: bin/kubelease.mjs)\n`);
}
