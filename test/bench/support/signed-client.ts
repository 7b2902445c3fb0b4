/**
 * A caller of the local stack as a warm client: SigV4 signed in this process (the AWS SDK's
 * signer), one kept-alive node:http agent, JSON in and out. No client start-up is measured.
 */
import http from 'node:http';
import type { LocalPrincipal } from '../../../lib/local/credentials.js';
import { signedHeaders } from '../../support/signed-fetch.js';

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export interface SignedClient {
  send<T = Record<string, unknown>>(principal: LocalPrincipal, method: string, path: string, body?: unknown): Promise<Answer<T>>;
  close(): void;
}

export function signedClient(baseUrl: string, maxSockets = 64): SignedClient {
  // idle sockets are dropped before the server's 5 s keep-alive timeout can race a reuse (ECONNRESET)
  const agent = new http.Agent({ keepAlive: true, maxSockets, timeout: 3000 });
  return {
    send: async <T>(p: LocalPrincipal, method: string, path: string, body?: unknown): Promise<Answer<T>> => {
      const url = new URL(path, baseUrl);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = await signedHeaders(p, { method, url, ...(payload !== undefined ? { body: payload } : {}) });
      return new Promise<Answer<T>>((resolve, reject) => {
        const req = http.request(
          { agent, host: url.hostname, port: url.port, method, path: `${url.pathname}${url.search}`, headers: { ...headers, ...(payload ? { 'content-length': Buffer.byteLength(payload) } : {}) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}
