/**
 * `npm start [-- --port N]`: the local stack in one process (see lib/local/stack.ts and
 * docs/local.md). Prints where it listens, the credentials file and ready-to-run examples;
 * Ctrl-C stops the server, the poller, the sweep timer and every child process of the bed.
 */
import { parseArgs } from 'node:util';
import { BedError } from '../lib/local/testbed/index.js';

// Quiet the Lambda libraries before they load: one line per request is printed by the server.
// POWERTOOLS_LOG_LEVEL=INFO npm start shows the handlers' JSON logs (audit records) too.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const say = (msg: string) => process.stderr.write(`[kubelease] ${msg}\n`);

const USAGE = 'usage: npm start [-- --port N]   (env: KUBELEASE_PORT, KUBELEASE_HOME, KUBELEASE_SWEEP_SECONDS)\n';

function flags(argv: string[]): { port?: number } {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (values.port === undefined) return {};
  const n = Number(values.port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port needs a port number, got ${values.port}`);
  return { port: n };
}

const { startLocalStack } = await import('../lib/local/stack.js');
const { usage } = await import('../lib/local/usage.js');

let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
let stopping: Promise<void> | undefined;
const shutdown = (code: number) => {
  stopping ??= (async () => {
    say('stopping: HTTP server, stream poller, sweep timer, test bed');
    const t = Date.now();
    await stack?.stop();
    say(`stopped (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    process.exit(code);
  })();
  return stopping;
};
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(sig, () => {
    if (stopping) {
      say('already stopping; send SIGKILL to abort (children are reaped on the next start)');
      return;
    }
    void shutdown(code);
  });
}
process.on('unhandledRejection', (e) => {
  say(`unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  void shutdown(1);
});

try {
  const { port } = flags(process.argv.slice(2));
  const t0 = Date.now();
  stack = await startLocalStack({
    ...(port !== undefined ? { port } : {}),
    log: (l) => say(l),
    requestLog: (l) => say(l),
  });
  say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.stdout.write(usage(stack));
} catch (e) {
  if (e instanceof BedError) say(e.message);
  else say(`failed to start: ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(1);
}
