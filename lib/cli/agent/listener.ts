/**
 * The agent's local listener (Vault Agent's cache listener with use_auto_auth_token): plain
 * HTTP on loopback, forwarding each request to the cluster's API server over TLS (the broker's
 * CA) with the current token attached. Apps call the cluster without handling tokens. Whatever
 * Authorization the app sends is replaced; upgrades (exec, attach, port-forward) are refused.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Issued, ListenerSpec } from './types.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization']);

export interface Listener {
  url: string;
  close(): Promise<void>;
}

function forwardHeaders(h: IncomingHttpHeaders, drop: Set<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = new Set(String(h.connection ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !drop.has(k) && !listed.has(k)) out[k] = v;
  return out;
}

function fail(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code: status });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

export async function startListener(spec: ListenerSpec, current: () => Issued | undefined, log: (line: string) => void): Promise<Listener> {
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const issued = current();
    if (!issued) return fail(res, 503, 'kubelease agent: no token yet');
    const target = new URL(req.url ?? '/', issued.server);
    const upstreamReq = (target.protocol === 'https:' ? https : http).request(
      target,
      {
        method: req.method,
        headers: { ...forwardHeaders(req.headers, HOP_BY_HOP), authorization: `Bearer ${issued.token}` },
        ...(target.protocol === 'https:' && issued.caPem ? { ca: issued.caPem } : {}),
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers, new Set([...HOP_BY_HOP].filter((h) => h !== 'host' && h !== 'authorization'))));
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstreamReq.on('error', (e) => {
      log(`listener: ${req.method} ${target.pathname} → upstream error ${(e as NodeJS.ErrnoException).code ?? e.message}`);
      fail(res, 502, `kubelease agent: cannot reach the cluster (${(e as NodeJS.ErrnoException).code ?? e.message})`);
    });
    req.pipe(upstreamReq);
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
  });
  server.on('upgrade', (_req: IncomingMessage, socket: net.Socket) => {
    socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, spec.host, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
