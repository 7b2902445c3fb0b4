/** One HTTP(S) request with node:http/https (lighter to load than fetch), body collected. */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { CliError } from '../core/errors.js';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** as the AWS CLI's default read timeout */
export const DEFAULT_TIMEOUT_MS = 60_000;

export function httpRequest(url: URL, o: HttpRequestOptions): Promise<HttpResponse> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: o.method, headers: o.headers, timeout: o.timeoutMs ?? DEFAULT_TIMEOUT_MS, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(unreachable(url, e)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => reject(unreachable(url, e)));
    req.end(o.body);
  });
}

function unreachable(url: URL, e: Error): CliError {
  const code = (e as NodeJS.ErrnoException).code ?? e.message;
  return new CliError(`cannot reach the broker at ${url.origin} (${code})`, 1, 'check --addr / KUBELEASE_ADDR and that the broker is up');
}
