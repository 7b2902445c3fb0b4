/**
 * The local stack (`npm start`'s broker: SigV4-checking HTTP server, the Lambdas' handlers,
 * DynamoDB Local, the stream poller) in a process of its own, so the bench measures it from
 * outside and can read its CPU time. Bundled by stack-process.ts with esbuild as the Lambdas are.
 * Options come as JSON in argv[2]; the bed is the file named by KUBELEASE_BED. Talks to its
 * parent over the IPC channel:
 *   → {ready, url, credentialsPath}           once it serves
 *   ← {cpu: id}  → {cpu: id, user, system, hrtimeUs}   CPU time (µs) and the monotonic clock
 *   ← {record: id}  → {recording: id}         starts recording its requests and their outgoing calls
 *   ← {splits: id}  → {splits: id, list}      stops recording; per request: path and wait split
 *   ← {stop: true}                            stops the stack and exits 0 (a --cpu-prof profile is written)
 */
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { startLocalStack } from '../../../lib/local/stack.js';
import type { TestBedInfo } from '../../../lib/local/testbed/index.js';
import { ownAtEnds, waitSplit, type CallKind, type Span } from './wait-split.js';

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

/** requests served and calls made while recording (sequential runs: one request at a time) */
let recording = false;
const served: (Span & { path: string })[] = [];
const calls: (Span & { kind: CallKind })[] = [];
const portOf = (url: string) => new URL(url).port;
const kindByPort = new Map<string, CallKind>([
  [portOf(bed.apiserver.url), 'kube'],
  [portOf(bed.dynamodb.endpoint), 'dynamodb'],
]);
const started = new WeakMap<object, number>();
const begin = ({ request }: { request: object }) => void (recording && started.set(request, performance.now()));
subscribe('http.server.request.start', begin as (m: unknown) => void);
subscribe('http.client.request.start', begin as (m: unknown) => void);
subscribe('http.server.response.finish', (m) => {
  const { request } = m as { request: IncomingMessage };
  const start = started.get(request);
  if (recording && start !== undefined) served.push({ path: request.url ?? '', start, end: performance.now() });
});
subscribe('http.client.response.finish', (m) => {
  const { request } = m as { request: ClientRequest };
  const start = started.get(request);
  const kind = kindByPort.get(String(request.socket?.remotePort ?? ''));
  // the stream poller's reads (about one a second) belong to no request
  const streamsCall = String(request.getHeader('x-amz-target') ?? '').startsWith('DynamoDBStreams');
  if (recording && start !== undefined && kind && !streamsCall) calls.push({ kind, start, end: performance.now() });
});

const send = (message: unknown) => process.send?.(message);
process.on('message', (message: { cpu?: number; stop?: boolean; record?: number; splits?: number }) => {
  if (message.record !== undefined) {
    recording = true;
    send({ recording: message.record });
  }
  if (message.splits !== undefined) {
    recording = false;
    const list = served.splice(0).map((r) => ({ path: r.path, split: waitSplit(r, calls), ends: ownAtEnds(r, calls) }));
    calls.splice(0);
    send({ splits: message.splits, list });
  }
  if (message.cpu !== undefined) {
    const { user, system } = process.cpuUsage();
    send({ cpu: message.cpu, user, system, hrtimeUs: Number(process.hrtime.bigint() / 1000n) });
  }
  if (message.stop) void stack.stop().finally(() => process.exit(0));
});
process.on('disconnect', () => void stack.stop().finally(() => process.exit(0)));
send({ ready: true, url: stack.url, credentialsPath: stack.credentials.path });
