/**
 * Entry of the `kubelease` bin (built to dist/cli by scripts/build-cli.mjs). The exec plugin's
 * cache hit is answered here with Node built-ins only; everything else loads the command router,
 * and each command loads what it needs (the AWS SDK and the signer only when a request is made).
 */
import { tryCacheHit } from './exec/fast.js';

const argv = process.argv.slice(2);
if (!(argv[0] === 'exec-credential' && tryCacheHit(argv.slice(1), process.env, (s) => process.stdout.write(s)))) {
  const { runCli } = await import('./router.js');
  process.exitCode = await runCli(argv);
}
