/**
 * The local stack in a process of its own, for the crash harness and the soak (bundled and
 * started by stack-process.ts): reads its options as JSON from argv[2], reuses the
 * bed named by KUBELEASE_BED, prints one JSON line `{"ready": …}` on stdout when it serves, logs
 * to stderr, and stops cleanly on SIGTERM. KUBELEASE_CRASH_AFTER in its environment arms a
 * crash point (lib/local/crash-points.ts).
 */
import { readFileSync } from 'node:fs';
import { logger } from '../../../lib/lambda/observability.js';
import { startLocalStack } from '../../../lib/local/stack.js';
import type { TestBedInfo } from '../../../lib/local/testbed/index.js';

interface ChildOptions {
  tablePrefix: string;
  mount: string;
  eksMount: string;
  pollIntervalMs?: number;
  logLevel?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const bedFile = process.env.KUBELEASE_BED;
if (!bedFile) throw new Error('KUBELEASE_BED is not set');
const bed = JSON.parse(readFileSync(bedFile, 'utf8')) as TestBedInfo;
if (options.logLevel) logger.setLogLevel(options.logLevel as 'INFO');

const say = (line: string) => process.stderr.write(`${line}\n`);
const stack = await startLocalStack({
  bed,
  tablePrefix: options.tablePrefix,
  mount: options.mount,
  eksMount: options.eksMount,
  port: 0,
  sweepSeconds: 0,
  pollIntervalMs: options.pollIntervalMs ?? 300,
  log: say,
  requestLog: say,
});
process.on('SIGTERM', () => {
  void stack.stop().finally(() => process.exit(0));
});
const startupMs = Math.round(performance.now());
process.stdout.write(`${JSON.stringify({ ready: true, url: stack.url, pid: process.pid, credentials: stack.credentials.path, tables: stack.tables, startupMs })}\n`);
