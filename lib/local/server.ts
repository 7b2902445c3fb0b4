/**
 * The local stand-in for API Gateway: a node:http server on loopback that routes with the
 * shared route table, checks AWS SigV4 signatures against the local credentials (AWS_IAM auth),
 * turns each request into the APIGatewayProxyEvent the REST API would send, and runs the same
 * handleHttp the Lambdas run.
 *
 * Vault's `LIST` verb: Node's HTTP parser rejects unknown methods, so connections are accepted by
 * a net.Server that rewrites a leading `LIST <target> HTTP/1.x` request line to GET (marked with
 * a per-process nonce header) before handing the socket to the HTTP server; the request is then
 * verified as LIST (what the client signed) and served as GET ?list=true. Such a connection is
 * closed after its response. Vault's own clients already send GET ?list=true.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { serverErrorMessage } from '../http/errors.js';
import { matchSegments, type FunctionName, type RouteMatch } from '../http/routes.js';
import { handleHttp } from '../lambda/http-handler.js';
import { LOCAL_ACCOUNT_ID, keyLookup, type LocalCredentials, type LocalPrincipal } from './credentials.js';
import { BadRequestTarget, parseRequestTarget, type RequestTarget } from './request-target.js';
import { authenticateHeaders } from './sigv4.js';
import { iamIdentity } from './api-gateway-identity.js';

export const DEFAULT_PORT = 8200;
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** a request's headers must arrive within this (and a new connection must start sending) */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** the whole request (headers and body) must arrive within this */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const LIST_HEADER = 'x-kubelease-list-verb';

export type Invoke = (fn: FunctionName, event: APIGatewayProxyEvent, context: { awsRequestId: string }) => Promise<APIGatewayProxyResult>;

export interface LocalServerOptions {
  credentials: LocalCredentials;
  /** default 8200; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1; the server is meant for loopback only */
  host?: string;
  /** max request body in bytes (413 above), default 1 MiB */
  bodyLimit?: number;
  /** one line per request */
  log?: (line: string) => void;
  /** default: handleHttp, the Lambdas' code */
  invoke?: Invoke;
  /** clock for signature checks (tests) */
  now?: () => Date;
  /** default 10 s: idle new connections and slow headers are closed after this */
  headersTimeoutMs?: number;
  /** default 30 s: a request (headers and body) must have arrived by then */
  requestTimeoutMs?: number;
}

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

const errorReply = (status: number, message: string, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ errors: [message] }),
});

/** A SigV4 refusal as API Gateway words it, with its x-amzn-ErrorType. */
function refusal(message: string, status: number): Reply {
  const type = message.startsWith('Missing') ? 'MissingAuthenticationTokenException'
    : message.startsWith('The security token') ? 'UnrecognizedClientException'
    : message.startsWith('The request signature') ? 'InvalidSignatureException'
    : 'IncompleteSignatureException';
  return errorReply(status, message, { 'x-amzn-errortype': type });
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** lower-case name → values, from rawHeaders (keeps repeats apart) */
function headerValues(req: IncomingMessage): Map<string, { name: string; values: string[] }> {
  const out = new Map<string, { name: string; values: string[] }>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const key = name.toLowerCase();
    if (key === LIST_HEADER) continue;
    const entry = out.get(key) ?? { name, values: [] };
    entry.values.push(req.rawHeaders[i + 1]!);
    out.set(key, entry);
  }
  return out;
}

/** API Gateway's query maps, from the same parse the signature check used. */
function queryMaps(query: Record<string, string[]>): { single: Record<string, string>; multi: Record<string, string[]> } {
  const multi: Record<string, string[]> = Object.fromEntries(Object.entries(query).map(([k, vs]) => [k, [...vs]]));
  // API Gateway's single-value map holds the last value of a repeated key
  const single = Object.fromEntries(Object.entries(multi).map(([k, vs]) => [k, vs[vs.length - 1] ?? '']));
  return { single, multi };
}

export interface EventInput {
  method: string;
  target: RequestTarget;
  resource: string;
  pathParameters: Record<string, string>;
  headers: Map<string, { name: string; values: string[] }>;
  body: Buffer;
  principal: LocalPrincipal;
  sourceIp: string;
  requestId: string;
  now: Date;
  /** LIST turned into GET: add list=true */
  list: boolean;
}

/** The APIGatewayProxyEvent API Gateway (REST, Lambda proxy, AWS_IAM) sends for this request. */
export function toProxyEvent(i: EventInput): APIGatewayProxyEvent {
  const { single, multi } = queryMaps(i.target.query);
  if (i.list) {
    single.list = 'true';
    multi.list = ['true'];
  }
  const headers: Record<string, string> = {};
  const multiHeaders: Record<string, string[]> = {};
  for (const { name, values } of i.headers.values()) {
    headers[name] = values.join(',');
    multiHeaders[name] = values;
  }
  const userAgent = i.headers.get('user-agent')?.values[0] ?? null;
  const host = i.headers.get('host')?.values[0] ?? '127.0.0.1';
  const hasQuery = Object.keys(single).length > 0;
  const hasParams = Object.keys(i.pathParameters).length > 0;
  return {
    resource: i.resource,
    path: `/${i.target.segments.join('/')}`,
    httpMethod: i.method,
    headers,
    multiValueHeaders: multiHeaders,
    queryStringParameters: hasQuery ? single : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    pathParameters: hasParams ? i.pathParameters : null,
    stageVariables: null,
    body: i.body.length > 0 ? i.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: i.method,
      path: `/local${i.target.rawPath}`,
      stage: 'local',
      requestId: i.requestId,
      requestTimeEpoch: i.now.getTime(),
      resourceId: 'local',
      resourcePath: i.resource,
      domainName: host,
      identity: iamIdentity({
        accessKey: i.principal.access_key_id,
        accountId: i.principal.arn.split(':')[4] || LOCAL_ACCOUNT_ID,
        caller: i.principal.principal_id,
        sourceIp: i.sourceIp,
        userAgent,
        userArn: i.principal.arn,
      }),
    },
  };
}

/** What every request of one server shares. */
interface ServerContext {
  lookup: ReturnType<typeof keyLookup>;
  limit: number;
  invoke: Invoke;
  now: () => Date;
  /** marks a request whose LIST line the front server rewrote to GET */
  nonce: string;
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const ctx: ServerContext = {
    lookup: keyLookup(options.credentials),
    limit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    invoke: options.invoke ?? ((fn, event, c) => handleHttp(fn, event, c)),
    now: options.now ?? (() => new Date()),
    nonce: randomBytes(16).toString('hex'),
  };
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout);
  const state = { closing: false };
  const httpServer = createHttpServer(ctx, { headersTimeout, requestTimeout, log: options.log ?? (() => {}), state });
  const sockets = new Set<net.Socket>();
  const front = createFrontServer(httpServer, ctx.nonce, headersTimeout, sockets);
  const host = options.host ?? '127.0.0.1';
  const port = await listen(front, host, options.port ?? DEFAULT_PORT);
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        // resolves once every connection is gone: idle ones now, busy ones after their response
        state.closing = true;
        front.close(() => resolve());
        httpServer.close(() => {}); // stops the timeout checks
        httpServer.closeIdleConnections();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 2000).unref();
      })),
  };
}

/** A refusal before the body is read closes the connection: the unread body must not be parsed as the next request. */
const closingAfter = (reply: Reply) => ({ reply: { ...reply, headers: { ...reply.headers, connection: 'close' } } });

interface Routed {
  target: RequestTarget;
  route: RouteMatch['route'];
  pathParameters: Record<string, string>;
  /** what the client signed (LIST) and what the handlers get (GET) */
  signedMethod: string;
  method: string;
  isList: boolean;
}

/** The request target, parsed once, matched against the route table and its methods. */
function routeOf(ctx: ServerContext, req: IncomingMessage): Routed | Reply {
  const isList = req.headers[LIST_HEADER] === ctx.nonce;
  const signedMethod = isList ? 'LIST' : (req.method ?? 'GET');
  const method = isList ? 'GET' : signedMethod;
  let target: RequestTarget;
  try {
    target = parseRequestTarget(req.url ?? '/');
  } catch (e) {
    if (e instanceof BadRequestTarget) return errorReply(400, e.message);
    throw e;
  }
  const match = matchSegments(target.segments);
  if (!match) return errorReply(404, `unsupported path: ${target.rawPath}`);
  const { route, pathParameters } = match;
  if (!(route.methods as string[]).includes(method)) {
    const allowed = route.methods.join(', ');
    return errorReply(405, `unsupported operation: ${signedMethod} ${route.path} (allowed: ${allowed}${route.methods.includes('GET') ? '; LIST = GET ?list=true' : ''})`, { allow: allowed });
  }
  return { target, route, pathParameters, signedMethod, method, isList };
}

/**
 * One request: routed, its headers authenticated before a byte of body is read, its body read
 * (within the limit) and checked against the signature, then handed to the Lambdas' handler.
 */
async function serveRequest(ctx: ServerContext, req: IncomingMessage, requestId: string): Promise<{ reply: Reply; who?: string }> {
  const routed = routeOf(ctx, req);
  if ('status' in routed) return closingAfter(routed);
  const tooLarge = () => closingAfter(errorReply(413, `request body is larger than ${ctx.limit} bytes`));
  if (Number(req.headers['content-length'] ?? 0) > ctx.limit) return tooLarge();

  const headers = headerValues(req);
  const flat: Record<string, string[]> = {};
  for (const [k, v] of headers) flat[k] = v.values;
  const head = await authenticateHeaders({ method: routed.signedMethod, path: routed.target.rawPath, query: routed.target.rawQuery, headers: flat }, ctx.lookup, { now: ctx.now() });
  if (!head.ok) return closingAfter(refusal(head.message, head.status));

  let body: Buffer;
  try {
    body = await readBody(req, ctx.limit);
  } catch (e) {
    if (e instanceof BodyTooLarge) return tooLarge();
    throw e;
  }
  const verdict = await head.finish(body);
  if (!verdict.ok) return { reply: refusal(verdict.message, verdict.status) };
  return { reply: await invokeRoute(ctx, req, routed, headers, body, verdict.principal, requestId), who: verdict.principal.name };
}

/** The APIGatewayProxyEvent to the function behind the route, its result as the reply. */
async function invokeRoute(
  ctx: ServerContext,
  req: IncomingMessage,
  routed: Routed,
  headers: Map<string, { name: string; values: string[] }>,
  body: Buffer,
  principal: LocalPrincipal,
  requestId: string,
): Promise<Reply> {
  let sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
  if (sourceIp.startsWith('::ffff:')) sourceIp = sourceIp.slice(7);
  const event = toProxyEvent({
    method: routed.method,
    target: routed.target,
    resource: routed.route.path,
    pathParameters: routed.pathParameters,
    headers,
    body,
    principal,
    sourceIp,
    requestId,
    now: ctx.now(),
    list: routed.isList,
  });
  const result = await ctx.invoke(routed.route.fn, event, { awsRequestId: requestId });
  const outHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) outHeaders[k] = String(v);
  const text = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
  return { status: result.statusCode, headers: outHeaders, body: text };
}

/** The HTTP server: one reply per request (500 with the request id when serving throws), one log line each. */
function createHttpServer(
  ctx: ServerContext,
  o: { headersTimeout: number; requestTimeout: number; log: (line: string) => void; state: { closing: boolean } },
): http.Server {
  const httpServer = http.createServer({
    headersTimeout: o.headersTimeout,
    requestTimeout: o.requestTimeout,
    // how often node checks the two timeouts above (default 30 s would let slow requests linger)
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(o.headersTimeout / 2))),
  }, (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const requestId = randomUUID();
    const isList = req.headers[LIST_HEADER] === ctx.nonce;
    serveRequest(ctx, req, requestId)
      .catch((e: unknown) => {
        o.log(`internal error for ${req.method} ${loggable(req.url)}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        return { reply: errorReply(500, serverErrorMessage(500, requestId)), who: undefined };
      })
      .then(({ reply, who }) => {
        // Date from the clock that checks signatures: clients correct their skew with it, as with API Gateway
        const headers: Record<string, string> = { ...reply.headers, 'x-amzn-requestid': requestId, date: ctx.now().toUTCString() };
        if (isList || o.state.closing) headers.connection = 'close';
        // a 204 has no body; anything else without one gets an explicit empty body
        if (reply.status === 204) res.writeHead(204, headers).end();
        else res.writeHead(reply.status, headers).end(reply.body ?? '');
        o.log(`${isList ? 'LIST' : req.method} ${loggable(req.url)} → ${reply.status} (${Date.now() - started} ms${who ? `, ${who}` : ''})`);
      })
      .catch(() => res.destroy());
  });
  httpServer.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (!socket.writable) return socket.destroy();
    const msg = err.code === 'HPE_INVALID_METHOD' ? 'unsupported HTTP method (LIST is accepted only as the first request of a connection; or use GET ?list=true)' : 'malformed HTTP request';
    const body = JSON.stringify({ errors: [msg] });
    socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  // node arms the headersTimeout / requestTimeout checks when an HTTP server starts listening;
  // this one never listens itself (the front server hands it the sockets), so start them here
  httpServer.emit('listening');
  return httpServer;
}

/** The socket server in front: rewrites a leading LIST request line to GET + the nonce header, then hands the socket over. */
function createFrontServer(httpServer: http.Server, nonce: string, headersTimeout: number, sockets: Set<net.Socket>): net.Server {
  return net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // a connection that never sends a request is closed; once it does, the HTTP server's
    // headersTimeout / requestTimeout take over
    socket.setTimeout(headersTimeout, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      let chunk = first;
      if (first.subarray(0, 5).toString('latin1') === 'LIST ') {
        const text = first.toString('latin1');
        const eol = text.indexOf('\r\n');
        if (eol > 0 && /^LIST \S+ HTTP\/1\.[01]$/.test(text.slice(0, eol))) {
          chunk = Buffer.concat([Buffer.from(`GET${text.slice(4, eol)}\r\n${LIST_HEADER}: ${nonce}`, 'latin1'), first.subarray(eol)]);
        }
      }
      socket.pause();
      socket.unshift(chunk);
      httpServer.emit('connection', socket);
      socket.resume();
    });
  });
}

async function listen(front: net.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    front.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is in use: stop the other process or pick another with --port / KUBELEASE_PORT`) : e),
    );
    front.listen(port, host, () => resolve());
  });
  return (front.address() as net.AddressInfo).port;
}

/** A request path for logs: presigned-URL credentials (X-Amz-*) are replayable, so they are cut. */
export function loggable(url: string | undefined): string {
  const parsed = new URL(url ?? '/', 'http://local');
  for (const key of [...parsed.searchParams.keys()]) if (/^x-amz-/i.test(key)) parsed.searchParams.delete(key);
  return `${parsed.pathname}${parsed.search}`;
}
