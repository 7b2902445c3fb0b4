/**
 * Entry of the `kubelease` bin, built (scripts/build-cli.mjs) into ONE CommonJS file with the
 * exec plugin's cache-hit path and nothing else: kubectl runs the plugin on every invocation,
 * so a hit loads this small file and Node built-ins. Everything else — the command router, each
 * command, the AWS SDK and the signer — is the code-split ESM build behind `./full.js`, loaded
 * with Node's compile cache on (Node >= 22.1): it pays off for that megabyte, not for this file.
 */
import nodeModule from 'node:module';
import { writeAllSync } from './core/write-sync.js';
import { tryCacheHit } from './exec/fast.js';

const argv = process.argv.slice(2);
if (!(argv[0] === 'exec-credential' && tryCacheHit(argv.slice(1), process.env, (s) => writeAllSync(1, s)))) {
  try {
    (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  } catch {
    // a read-only or missing cache directory only costs speed
  }
  import('./full.js').then(
    (full) => full.main(argv),
    (e: unknown) => {
      process.stderr.write(`kubelease: cannot load the CLI (${e instanceof Error ? e.message : String(e)}); fix: rebuild it with npm run build:cli\n`);
      process.exitCode = 1;
    },
  );
}
