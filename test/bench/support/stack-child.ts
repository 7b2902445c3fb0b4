/**
 * The local stack (`npm start`'s broker: SigV4-checking HTTP server, the Lambdas' handlers,
 * DynamoDB Local, the stream poller) in a process of its own, so the bench measures it from
 * outside and can read its CPU time. Bundled by stack-process.ts with esbuild as the Lambdas are.
 * Options come as JSON in argv[2]; the bed is the file named by KUBELEASE_BED. Talks to its
 * parent over the IPC channel:
 *   → {ready, url, credentialsPath}           once it serves
 *   ← {cpu: id}  → {cpu: id, user, system, hrtimeUs}   CPU time (µs) and the monotonic clock
 *   ← {stop: true}                            stops the stack and exits 0 (a --cpu-prof profile is written)
 */
import { readFileSync } from 'node:fs';
import { startLocalStack } from '../../../lib/local/stack.js';
import type { TestBedInfo } from '../../../lib/local/testbed/index.js';

interface ChildOptions {
  tablePrefix: string;
  mount: string;
  eksMount: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const bedFile = process.env.KUBELEASE_BED;
if (!bedFile) throw new Error('KUBELEASE_BED is not set');
const bed = JSON.parse(readFileSync(bedFile, 'utf8')) as TestBedInfo;

const stack = await startLocalStack({
  bed,
  tablePrefix: options.tablePrefix,
  mount: options.mount,
  eksMount: options.eksMount,
  port: 0,
  sweepSeconds: 0,
  log: (line) => process.stderr.write(`${line}\n`),
  requestLog: () => {},
});

const send = (message: unknown) => process.send?.(message);
process.on('message', (message: { cpu?: number; stop?: boolean }) => {
  if (message.cpu !== undefined) {
    const { user, system } = process.cpuUsage();
    send({ cpu: message.cpu, user, system, hrtimeUs: Number(process.hrtime.bigint() / 1000n) });
  }
  if (message.stop) void stack.stop().finally(() => process.exit(0));
});
process.on('disconnect', () => void stack.stop().finally(() => process.exit(0)));
send({ ready: true, url: stack.url, credentialsPath: stack.credentials.path });
