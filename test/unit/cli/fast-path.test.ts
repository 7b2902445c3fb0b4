/** The exec plugin's cache-hit path, against a real cache directory. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheKey } from '../../../lib/cli/cache/key.js';
import { cacheDir, checkDir, writeEntry, type CacheEntry } from '../../../lib/cli/cache/store.js';
import { tryCacheHit } from '../../../lib/cli/exec/fast.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const ADDR = 'http://127.0.0.1:8200';
let home: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'kl-fast-'));
  env = { KUBECACHEDIR: path.join(home, 'cache'), AWS_ACCESS_KEY_ID: 'ASIAONE', KUBELEASE_ADDR: ADDR };
  checkDir(cacheDir(env), true);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function cache(expiresInS: number, lifetimeS = 3600, identity = 'key:ASIAONE', namespace: string | undefined = 'default'): void {
  const key = cacheKey({ addr: ADDR, mount: 'local', role: 'demo', namespace, clusterRoleBinding: false, identity });
  const entry: CacheEntry = {
    v: 1,
    token: `token-for-${identity}`,
    issued_at: NOW + (expiresInS - lifetimeS) * 1000,
    expires_at: NOW + expiresInS * 1000,
    lease_id: 'local/creds/demo/x',
    namespace: 'default',
    service_account: 'sa',
    kubernetes_host: 'https://127.0.0.1:6443',
    kubernetes_ca_cert: '',
  };
  writeEntry(cacheDir(env), key, entry);
}

function hit(args: string[], e = env): string | undefined {
  let out: string | undefined;
  return tryCacheHit(args, e, (s) => (out = s), NOW) ? out : undefined;
}

describe('tryCacheHit', () => {
  it('answers a fresh entry with the requested apiVersion and expiry a minute early', () => {
    cache(1800);
    const out = hit(['local/demo', '-n', 'default'], { ...env, KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}' });
    expect(JSON.parse(out!)).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: {},
      status: { token: 'token-for-key:ASIAONE', expirationTimestamp: '2030-01-01T12:29:00Z' },
    });
  });

  it('misses inside the refresh margin, on another identity or namespace, and when forced', () => {
    cache(299);
    expect(hit(['local/demo', '-n', 'default'])).toBeUndefined();
    cache(1800);
    expect(hit(['local/demo', '-n', 'default'], { ...env, AWS_ACCESS_KEY_ID: 'ASIATWO' })).toBeUndefined();
    expect(hit(['local/demo', '-n', 'other'])).toBeUndefined();
    expect(hit(['local/demo', '-n', 'default', '--force-refresh'])).toBeUndefined();
    expect(hit(['local/demo', '-n', 'default'])).toBeDefined();
  });

  it('leaves help, bad flags, refused files and unknown apiVersions to the full command', () => {
    cache(1800);
    expect(hit(['local/demo', '-n', 'default', '--help'])).toBeUndefined();
    expect(hit(['local/demo', '-n', 'default', '--bogus'])).toBeUndefined();
    expect(hit(['local/demo', '-n', 'default'], { ...env, KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1alpha1"}' })).toBeUndefined();
    chmodSync(cacheDir(env), 0o755);
    expect(hit(['local/demo', '-n', 'default'])).toBeUndefined();
  });
});
