/**
 * A fault-injecting HTTP(S) proxy for the reliability suite, put between the broker and the test
 * bed's kube-apiserver (TLS, served with the apiserver's own loopback certificate so the broker
 * keeps verifying against the bed CA) or DynamoDB Local (plain HTTP).
 *
 * Every request is recorded as a ProxiedCall (method, path, a normalized `signature`, the DynamoDB
 * operation and table; never headers or bodies, which carry tokens and signatures). Rules pick
 * calls by signature (RegExp or predicate) and by index among the matching calls, and answer
 * them with a fault:
 *
 *   status  500 / 502 / 503 / 504 / 409 / 429 (+ Retry-After), with the body the real server
 *           sends: a Kubernetes Status, or DynamoDB's JSON error (`__type`; a 429 is DynamoDB's
 *           400 ThrottlingException, a 409 its 400 TransactionConflictException)
 *   reset   the client connection is reset (RST) before anything is forwarded
 *   stall   nothing is answered until the client gives up (or `maxMs`), nothing forwarded
 *   delay   forwarded after `ms` (+ up to `jitterMs` at random), to line up or shuffle races
 *   late    forwarded at once, its answer held for `ms`: the server did the work, the client
 *           (past its timeout) never hears of it and tries again
 *   pass    forwarded untouched (the default)
 *
 * Listens on 127.0.0.1 only; close() drops every connection, stalled ones included.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; status: 409 | 429 | 500 | 502 | 503 | 504; retryAfterSeconds?: number }
  | { kind: 'reset' }
  | { kind: 'stall'; maxMs?: number }
  | { kind: 'delay'; ms: number; jitterMs?: number }
  | { kind: 'late'; ms: number }
  | { kind: 'pass' };

export type Flavor = 'kubernetes' | 'dynamodb';

export interface ProxiedCall {
  /** 0-based, across this proxy since the last reset() */
  index: number;
  method: string;
  /** path without the query string */
  path: string;
  /** what rules match: `<METHOD> <path>` for Kubernetes, `<Operation> <table>` for DynamoDB */
  signature: string;
  /** DynamoDB: operation (X-Amz-Target) and table */
  op?: string;
  table?: string;
  /** DynamoDB: the lease_id the call names (Key or Item), when it names one */
  leaseId?: string;
  /** the injected fault, e.g. `status 503`, `reset`; undefined when passed through */
  fault?: string;
  /** status the client saw (upstream or injected); undefined for reset/stall */
  status?: number;
  startedAt: number;
  endedAt?: number;
}

export interface FaultRule {
  /** which calls count for this rule; default all */
  match?: RegExp | ((call: ProxiedCall) => boolean);
  /** index of the first matching call that gets the fault (default 0) */
  at?: number;
  /** how many matching calls from `at` on get it (default 1; Infinity: all) */
  times?: number;
  fault: Fault;
}

export interface FaultProxyOptions {
  /** upstream base URL, http: or https: */
  target: string;
  flavor: Flavor;
  /** serve TLS with this certificate (PEM); required when the target is https */
  tls?: { cert: string; key: string };
  /** CA bundle to verify an https target */
  upstreamCa?: string;
  /** Kubernetes only: maps a path to the part of the signature (default: generated names → {name}) */
  normalizePath?: (path: string) => string;
  /** stall cap when a rule gives none (default 60 s) */
  maxStallMs?: number;
}

interface ActiveRule extends FaultRule {
  seen: number;
  hits: number;
}

/** Segments of generated names (`kl-…` and the anchor/test prefixes) vary per run. */
export const defaultNormalize = (p: string): string =>
  p
    .split('/')
    .map((s) => (/^kl-[a-z0-9-]+$/.test(s) ? '{name}' : s))
    .join('/');

const KUBE_REASON: Record<number, string> = {
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const DYNAMO_ERROR: Record<number, [number, string]> = {
  409: [400, 'TransactionConflictException'],
  429: [400, 'ThrottlingException'],
  500: [500, 'InternalServerError'],
  502: [502, 'InternalServerError'],
  503: [503, 'ServiceUnavailable'],
  504: [504, 'InternalServerError'],
};

export class FaultProxy {
  readonly calls: ProxiedCall[] = [];
  /** faults injected since start (reset() keeps counting) */
  injected = 0;
  /** every request seen since start */
  total = 0;
  private rules: ActiveRule[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly target: URL;
  private readonly agent: http.Agent;
  private url_ = '';

  private constructor(
    private readonly server: http.Server,
    private readonly options: FaultProxyOptions,
  ) {
    this.target = new URL(options.target);
    this.agent =
      this.target.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ...(options.upstreamCa ? { ca: options.upstreamCa } : {}) })
        : new http.Agent({ keepAlive: true });
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const tls = options.tls;
    if (new URL(options.target).protocol === 'https:' && !tls) throw new Error('an https target needs tls for the proxy');
    const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }) : http.createServer();
    const proxy = new FaultProxy(server, options);
    server.on('connection', (s: Socket) => {
      proxy.sockets.add(s);
      s.on('close', () => proxy.sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      proxy.sockets.add(s);
      s.on('close', () => proxy.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void proxy.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    proxy.url_ = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return proxy;
  }

  get url(): string {
    return this.url_;
  }

  /** Replaces the rules (their counters start at 0). */
  plan(rules: FaultRule[]): void {
    this.rules = rules.map((r) => ({ ...r, seen: 0, hits: 0 }));
  }

  /** No rules, empty call log. */
  reset(): void {
    this.rules = [];
    this.calls.length = 0;
  }

  /** how many calls the current rules have answered with their fault */
  get hits(): number {
    return this.rules.reduce((n, r) => n + r.hits, 0);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private describe(req: IncomingMessage, body: Buffer): ProxiedCall {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const call: ProxiedCall = { index: this.calls.length, method, path, signature: '', startedAt: Date.now() };
    if (this.options.flavor === 'dynamodb') {
      const target = String(req.headers['x-amz-target'] ?? '');
      call.op = target.split('.').pop() ?? target;
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { TableName?: string; Key?: Record<string, { S?: string }>; Item?: Record<string, { S?: string }> };
        call.table = parsed.TableName;
        const leaseId = parsed.Key?.lease_id?.S ?? parsed.Item?.lease_id?.S;
        if (leaseId) call.leaseId = leaseId;
      } catch {
        // not JSON: signature without table
      }
      call.signature = `${call.op} ${call.table ?? ''}`.trim();
    } else {
      call.signature = `${method} ${(this.options.normalizePath ?? defaultNormalize)(path)}`;
    }
    return call;
  }

  private pick(call: ProxiedCall): Fault | undefined {
    for (const rule of this.rules) {
      const m = rule.match;
      const matches = m === undefined || (m instanceof RegExp ? m.test(call.signature) : m(call));
      if (!matches) continue;
      const i = rule.seen++;
      const from = rule.at ?? 0;
      const times = rule.times ?? 1;
      if (i >= from && i < from + times) {
        rule.hits++;
        return rule.fault;
      }
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return;
    }
    const body = Buffer.concat(chunks);
    const call = this.describe(req, body);
    this.calls.push(call);
    this.total++;
    const fault = this.pick(call);
    const done = (status?: number) => {
      call.endedAt = Date.now();
      if (status !== undefined) call.status = status;
    };
    if (fault && fault.kind !== 'pass') {
      this.injected++;
      call.fault = fault.kind === 'status' ? `status ${fault.status}` : fault.kind;
    }
    switch (fault?.kind) {
      case 'status':
        this.answer(res, fault.status, fault.retryAfterSeconds);
        done(this.options.flavor === 'dynamodb' ? DYNAMO_ERROR[fault.status]?.[0] : fault.status);
        return;
      case 'reset':
        // a TLS socket cannot send RST itself: reset the TCP socket under it
        ((req.socket as Socket & { _parent?: Socket })._parent ?? req.socket).resetAndDestroy();
        done();
        return;
      case 'stall': {
        const cap = fault.maxMs ?? this.options.maxStallMs ?? 60_000;
        const timer = setTimeout(() => req.socket.destroy(), cap);
        req.socket.once('close', () => {
          clearTimeout(timer);
          done();
        });
        return;
      }
      case 'delay':
        await new Promise((r) => setTimeout(r, fault.ms + Math.random() * (fault.jitterMs ?? 0)));
        break;
      default:
        break;
    }
    this.forward(req, res, body, done, fault?.kind === 'late' ? fault.ms : 0);
  }

  private answer(res: ServerResponse, status: number, retryAfterSeconds?: number): void {
    const headers: Record<string, string> = {};
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    if (this.options.flavor === 'dynamodb') {
      const [code, type] = DYNAMO_ERROR[status] ?? [500, 'InternalServerError'];
      res.writeHead(code, { ...headers, 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `fault-${this.injected}` });
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `injected ${type}` }));
      return;
    }
    res.writeHead(status, { ...headers, 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `injected fault ${status}`,
        reason: KUBE_REASON[status] ?? 'InternalError',
        code: status,
      }),
    );
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, done: (status?: number) => void, holdMs = 0): void {
    const mod = this.target.protocol === 'https:' ? https : http;
    const headers = { ...req.headers, host: this.target.host };
    delete headers.connection;
    const upstream = mod.request(
      {
        protocol: this.target.protocol,
        hostname: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      },
      (up) => {
        const answer = () => {
          if (res.destroyed) {
            up.resume();
            done(up.statusCode);
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', () => done(up.statusCode));
          up.on('error', () => res.destroy());
        };
        if (holdMs > 0) setTimeout(answer, holdMs);
        else answer();
      },
    );
    upstream.on('error', () => {
      done();
      res.destroy();
    });
    upstream.end(body);
  }
}
