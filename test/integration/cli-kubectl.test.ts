/**
 * Real kubectl (whatever `kubectl` is on PATH: Debian's kubernetes-client 1.20 or a newer one)
 * using `kubelease exec-credential` as its exec plugin against the test bed's apiserver, and the
 * plugin's disk cache: one issuance for 20 parallel cold calls, identity switches, corrupt and
 * foreign-mode files, expired entries, and a failed refresh served from the cache.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadBed } from '../support/bed.js';
import { cacheFiles, requireBuiltCli, run, startCliStack, withPrincipal, type CliStack, type Ran } from '../support/cli.js';

const T = 180_000;
const bed = loadBed();
const role = 'demo-generated';
let s: CliStack;
let kubectlMinor = 0;

beforeAll(async () => {
  requireBuiltCli();
  s = await startCliStack('cli-kctl');
  const v = await run('kubectl', ['version', '--client', '-o', 'json'], { PATH: process.env.PATH ?? '', HOME: s.tmp });
  kubectlMinor = Number((JSON.parse(v.stdout) as { clientVersion: { minor: string } }).clientVersion.minor.replace(/\D.*$/, ''));
}, T);
afterAll(() => s?.stop(), T);

interface ExecAnswer {
  apiVersion: string;
  status: { token: string; expirationTimestamp: string };
}

/**
 * A kubeconfig whose exec command is a wrapper that records every ExecCredential the plugin
 * prints (kubectl never shows the token), then passes it on. --server/--ca-file: no warm-up.
 */
async function kubeconfigWithRecorder(env: NodeJS.ProcessEnv, name: string, apiVersion: string): Promise<{ kubeconfig: string; answers: () => ExecAnswer[] }> {
  const log = path.join(env.HOME!, `${name}.answers`);
  const wrapper = path.join(env.HOME!, `${name}-plugin.sh`);
  writeFileSync(wrapper, `#!/bin/sh\nout=$(kubelease "$@") || exit $?\nprintf '%s\\n' "$out" >> '${log}'\nprintf '%s\\n' "$out"\n`, { mode: 0o700 });
  writeFileSync(log, '');
  const ca = path.join(env.HOME!, 'ca.pem');
  writeFileSync(ca, bed.apiserver.caPem);
  const kubeconfig = path.join(env.HOME!, `${name}.kubeconfig`);
  const r = await s.cli(['kubeconfig', `${s.mount}/${role}`, '-n', 'default', '--merge', '--kubeconfig', kubeconfig, '--exec-command', wrapper, '--exec-api-version', apiVersion, '--server', bed.apiserver.url, '--ca-file', ca], env);
  expect(r).toEqual({ code: 0, stdout: expect.stringContaining(kubeconfig), stderr: '' });
  return { kubeconfig, answers: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ExecAnswer) };
}

const kubectl = (kubeconfig: string, env: NodeJS.ProcessEnv): Promise<Ran> => run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pods', '-o', 'name'], env, { timeoutMs: 150_000 });
const execCredential = (env: NodeJS.ProcessEnv, extra: string[] = []) => s.cli(['exec-credential', `${s.mount}/${role}`, '-n', 'default', ...extra], env);
const tokenOf = (r: Ran) => (JSON.parse(r.stdout) as ExecAnswer).status.token;

describe('kubectl with the exec plugin', () => {
  test('kubectl get pods works; 20 parallel calls on a cold cache make one issuance and share its token', async () => {
    const env = s.env(s.ci);
    const { kubeconfig, answers } = await kubeconfigWithRecorder(env, 'parallel', 'client.authentication.k8s.io/v1beta1');
    expect(cacheFiles(env)).toEqual([]);
    const before = s.credsRequests(role);
    const results = await Promise.all(Array.from({ length: 20 }, () => kubectl(kubeconfig, env)));
    for (const r of results) expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '' });
    expect(s.credsRequests(role) - before).toBe(1);
    const tokens = answers().map((a) => a.status.token);
    expect(tokens).toHaveLength(20);
    expect(new Set(tokens).size).toBe(1);
    expect(answers().every((a) => a.apiVersion === 'client.authentication.k8s.io/v1beta1')).toBe(true);
    // and the next call is a cache hit
    expect((await kubectl(kubeconfig, env)).code).toBe(0);
    expect(s.credsRequests(role) - before).toBe(1);
  }, T);

  test('answers with the apiVersion KUBERNETES_EXEC_INFO asks for (v1 needs kubectl >= 1.22)', async () => {
    const env = s.env(s.ci);
    const versions = kubectlMinor >= 22 ? ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] : ['client.authentication.k8s.io/v1beta1'];
    for (const v of versions) {
      const { kubeconfig, answers } = await kubeconfigWithRecorder(env, v.replace(/\W/g, '-'), v);
      const r = await kubectl(kubeconfig, env);
      expect({ v, code: r.code }).toEqual({ v, code: 0 });
      expect(answers().map((a) => a.apiVersion)).toEqual([v]);
    }
  }, T);

  test('diagnostics stay on stderr in one line; kubectl shows them and fails cleanly', async () => {
    const env = s.env(undefined); // no AWS credentials at all
    const { kubeconfig } = await kubeconfigWithRecorder(s.env(s.ci), 'nocreds', 'client.authentication.k8s.io/v1beta1');
    const r = await kubectl(kubeconfig, env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('kubelease: no AWS credentials found');
    const direct = await execCredential(env);
    expect({ code: direct.code, stdout: direct.stdout }).toEqual({ code: 1, stdout: '' });
    expect(direct.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, T);
});

describe('the disk cache', () => {
  test('is private: directory 0700, files 0600', async () => {
    const env = s.env(s.ci);
    expect((await execCredential(env)).code).toBe(0);
    const [file] = cacheFiles(env);
    expect(statSync(path.dirname(file!)).mode & 0o777).toBe(0o700);
    expect(statSync(file!).mode & 0o777).toBe(0o600);
  }, T);

  test('an identity switch gets its own token; switching back is a hit', async () => {
    const env = s.env(s.ci);
    const before = s.credsRequests(role);
    const asCi = tokenOf(await execCredential(env));
    const asAdmin = tokenOf(await execCredential(withPrincipal(env, s.admin)));
    expect(asAdmin).not.toBe(asCi);
    expect(tokenOf(await execCredential(env))).toBe(asCi);
    expect(s.credsRequests(role) - before).toBe(2);
    expect(cacheFiles(env)).toHaveLength(2);
  }, T);

  test('a corrupt file is ignored with a warning and replaced', async () => {
    const env = s.env(s.ci);
    const first = tokenOf(await execCredential(env));
    const [file] = cacheFiles(env);
    writeFileSync(file!, '{"v":1,"token":');
    const r = await execCredential(env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`kubelease: warning: cache file ${file} is corrupt: ignored\n`);
    expect(tokenOf(r)).not.toBe(first);
    expect(tokenOf(await execCredential(env))).toBe(tokenOf(r)); // the replacement is served
  }, T);

  test('a file other users could read is refused with a warning and replaced 0600', async () => {
    const env = s.env(s.ci);
    const first = tokenOf(await execCredential(env));
    const [file] = cacheFiles(env);
    chmodSync(file!, 0o644);
    const r = await execCredential(env);
    expect(r.stderr).toBe(`kubelease: warning: cache file ${file} has mode 0644 (group/other bits set): ignored\n`);
    expect(tokenOf(r)).not.toBe(first);
    expect(statSync(file!).mode & 0o777).toBe(0o600);
  }, T);

  test('a cache directory others can enter is not used (warning), the plugin still answers', async () => {
    const env = s.env(s.ci);
    expect((await execCredential(env)).code).toBe(0);
    const dir = path.join(env.KUBECACHEDIR!, 'kubelease');
    chmodSync(dir, 0o755);
    const before = s.credsRequests(role);
    const r = await execCredential(env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`kubelease: warning: cache directory ${dir} has mode 0755 (group/other bits set): not using the token cache; fix: chmod 700 ${dir} (or set KUBECACHEDIR to a private directory)\n`);
    expect(s.credsRequests(role) - before).toBe(1);
  }, T);

  test('an expired entry is refreshed; --force-refresh always issues', async () => {
    const env = s.env(s.ci);
    const first = tokenOf(await execCredential(env));
    const [file] = cacheFiles(env);
    const entry = JSON.parse(readFileSync(file!, 'utf8')) as { issued_at: number; expires_at: number };
    writeFileSync(file!, JSON.stringify({ ...entry, issued_at: Date.now() - 3_700_000, expires_at: Date.now() - 100_000 }), { mode: 0o600 });
    const before = s.credsRequests(role);
    const second = tokenOf(await execCredential(env));
    expect(second).not.toBe(first);
    expect(s.credsRequests(role) - before).toBe(1);
    const third = tokenOf(await execCredential(env, ['--force-refresh']));
    expect(third).not.toBe(second);
    expect(s.credsRequests(role) - before).toBe(2);
  }, T);

  test('a failed refresh serves the cached token while it has more than 30 s left, with a warning', async () => {
    const env = s.env(s.ci);
    const cached = tokenOf(await execCredential(env));
    const [file] = cacheFiles(env);
    const entry = JSON.parse(readFileSync(file!, 'utf8')) as Record<string, number>;
    // inside the refresh margin, 45 s left; the refresh fails: same key id, wrong secret → 403
    writeFileSync(file!, JSON.stringify({ ...entry, issued_at: Date.now() - 555_000, expires_at: Date.now() + 45_000 }), { mode: 0o600 });
    const broken = { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' };
    const r = await execCredential(broken);
    expect(r.code).toBe(0);
    expect(tokenOf(r)).toBe(cached);
    expect(r.stderr).toMatch(/^kubelease: warning: could not refresh the token \(POST .*: 403 The request signature .*\); serving the cached one, which expires in 4\d s\n$/);
    expect(Date.parse((JSON.parse(r.stdout) as ExecAnswer).status.expirationTimestamp)).toBeGreaterThan(Date.now());
    // 20 s left: no longer served
    writeFileSync(file!, JSON.stringify({ ...entry, issued_at: Date.now() - 580_000, expires_at: Date.now() + 20_000 }), { mode: 0o600 });
    const late = await execCredential(broken);
    expect({ code: late.code, stdout: late.stdout }).toEqual({ code: 1, stdout: '' });
    expect(late.stderr).toMatch(/^kubelease: POST .*: 403 The request signature .*; fix: .*\n$/);
  }, T);
});
