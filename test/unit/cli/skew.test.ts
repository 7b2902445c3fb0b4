/**
 * The built CLI against the local API Gateway stand-in (real SigV4 verification, a recording
 * fake behind it): one retry on a clock-skew 403 using the server's Date, and the one-line
 * errors for a refused signature, missing credentials and an unreachable broker.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateCredentials, principal } from '../../../lib/local/credentials.js';
import { startLocalServer, type LocalServer } from '../../../lib/local/server.js';

const BIN = path.join(process.cwd(), 'bin', 'kubelease.cjs');
const creds = generateCredentials();
const ci = principal(creds, 'ci');
const SKEW_MS = 11 * 60_000;
let server: LocalServer;
let home: string;
const calls: string[] = [];

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'kl-skew-'));
  server = await startLocalServer({
    credentials: creds,
    port: 0,
    now: () => new Date(Date.now() + SKEW_MS), // the server's clock runs 11 minutes ahead of ours
    invoke: async (fn, event) => {
      calls.push(`${event.httpMethod} ${event.path}`);
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: 'r', lease_id: '', renewable: false, lease_duration: 0, data: { keys: [], key_info: {} }, warnings: null }) };
    },
  });
});
afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const ciEnv = () => ({ AWS_ACCESS_KEY_ID: ci.access_key_id, AWS_SECRET_ACCESS_KEY: ci.secret_access_key, AWS_SESSION_TOKEN: ci.session_token ?? '', KUBELEASE_ADDR: server.url });

describe('SigV4 client', () => {
  it('retries once with the server clock after a clock-skew 403', async () => {
    calls.length = 0;
    const r = await cli(['leases', 'local', '-o', 'json'], ciEnv());
    expect(r).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
    expect(calls).toEqual(['GET /v1/local/leases']); // the first, skewed attempt never reached the handler
  });

  it('reports a wrong secret as one line with a fix', async () => {
    const r = await cli(['leases', 'local'], { ...ciEnv(), AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kubelease: GET /v1/local/leases: 403 The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details; fix: check your AWS credentials and the signing region (--region)\n');
  });

  it('reports missing AWS credentials as one line', async () => {
    const r = await cli(['leases', 'local'], { KUBELEASE_ADDR: server.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kubelease: no AWS credentials found \(.*\); fix: .*\n$/);
  });

  it('reports a broker that is down as one line', async () => {
    const r = await cli(['leases', 'local'], { ...ciEnv(), KUBELEASE_ADDR: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kubelease: cannot reach the broker at http://127.0.0.1:9 (ECONNREFUSED); fix: check --addr / KUBELEASE_ADDR and that the broker is up\n');
  });
});
