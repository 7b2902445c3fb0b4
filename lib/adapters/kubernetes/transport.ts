/**
 * The HTTP transport under client-node's generated request factories and response processors:
 * `node:https` with one keep-alive agent per cluster (its CA, or the system roots), a bearer
 * token and a per-call timeout. It replaces client-node's default (undici's fetch behind
 * KubeConfig), which the Lambdas would otherwise load and bundle (issue 13: ~740 KB of undici,
 * plus what KubeConfig pulls in: openid-client, socks, hpagent, ws, js-yaml).
 */
import { Agent, request } from 'node:https';
import { ResponseContext, type RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';

export interface TransportOptions {
  /** PEM bundle; undefined → the system trust store */
  ca?: string;
  /** per call: connect, headers and body */
  timeoutMs: number;
}

export class HttpsTransport {
  private readonly agent: Agent;

  constructor(private readonly options: TransportOptions) {
    // no maxSockets cap: the engine bounds its own concurrency (sweep, canI)
    this.agent = new Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });
  }

  /** Sends what a request factory built, with `token` as the bearer; the body is read whole. */
  send(ctx: RequestContext, token: string): Promise<ResponseContext> {
    const body = ctx.getBody();
    if (body !== undefined && typeof body !== 'string') throw new TypeError('the kube transport sends JSON bodies only');
    const headers: Record<string, string> = { ...ctx.getHeaders(), authorization: `Bearer ${token}`, 'user-agent': 'kubelease' };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = request(
        ctx.getUrl(),
        { method: ctx.getHttpMethod(), headers, agent: this.agent, signal: AbortSignal.timeout(this.options.timeoutMs) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const payload = Buffer.concat(chunks);
            const responseHeaders: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve(
              new ResponseContext(res.statusCode ?? 0, responseHeaders, {
                text: async () => payload.toString('utf8'),
                binary: async () => payload,
                stream: () => null,
              }),
            );
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
