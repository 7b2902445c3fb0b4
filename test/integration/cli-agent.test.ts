/**
 * `kubelease agent` against the local stack and the test bed's apiserver. The refresh point
 * comes from the test knob KUBELEASE_TEST_REFRESH_AFTER_MS (TokenRequest's minimum lifetime is
 * 10 minutes); every wait polls, none sleeps a fixed time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { eventually, loadBed } from '../support/bed.js';
import { CLI_BIN, podsStatus, requireBuiltCli, run, startCliStack, type CliStack } from '../support/cli.js';

const T = 180_000;
const bed = loadBed();
let s: CliStack;

beforeAll(async () => {
  requireBuiltCli();
  s = await startCliStack('cli-agent');
}, T);
afterAll(() => s?.stop(), T);

interface Agent {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number>;
}

function startAgent(args: string[], env: NodeJS.ProcessEnv): Agent {
  const proc = spawn(process.execPath, [CLI_BIN, 'agent', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  proc.stdout!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number>((resolve) => proc.on('close', (code, signal) => resolve(code ?? (signal === 'SIGTERM' ? 143 : 128))));
  return { proc, stderr: () => err, exited };
}

const leasesIn = (log: string) => [...log.matchAll(/lease (\S+) valid until/g)].map((m) => m[1]!);

describe('agent', () => {
  test('rewrites the token file before expiry, runs --exec-after, keeps a kubeconfig that kubectl uses', async () => {
    const env = s.env(s.ci, { KUBELEASE_TEST_REFRESH_AFTER_MS: '1500' });
    const tokenFile = path.join(env.HOME!, 'run', 'token');
    const kubeconfig = path.join(env.HOME!, 'run', 'kubeconfig');
    const marks = path.join(env.HOME!, 'refreshed');
    const agent = startAgent([`${s.mount}/demo-generated`, '-n', 'default', '--token-file', tokenFile, '--kubeconfig', kubeconfig, '--exec-after', `echo refreshed >> '${marks}'`], env);
    try {
      // the agent writes the token file, then the kubeconfig that points at it: wait for the last
      // (waiting for the token file alone raced the kubeconfig's rename on a slow machine)
      await eventually(() => expect({ token: existsSync(tokenFile), kubeconfig: existsSync(kubeconfig) }).toEqual({ token: true, kubeconfig: true }), { timeoutMs: 60_000 });
      const first = readFileSync(tokenFile, 'utf8');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
      const doc = parse(readFileSync(kubeconfig, 'utf8')) as { users: { user: Record<string, string> }[]; clusters: { cluster: Record<string, string> }[] };
      expect(doc.users[0]!.user).toEqual({ tokenFile });
      expect(doc.clusters[0]!.cluster.server).toBe(bed.apiserver.url);
      await eventually(() => expect(readFileSync(tokenFile, 'utf8')).not.toBe(first), { timeoutMs: 60_000 });
      await eventually(() => expect(readFileSync(marks, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2), { timeoutMs: 60_000 });
      expect(await podsStatus(readFileSync(tokenFile, 'utf8'))).toBe(200);
      const k = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pods', '-o', 'name'], env);
      expect({ code: k.code, stdout: k.stdout }).toEqual({ code: 0, stdout: '' });
      expect(agent.stderr()).not.toMatch(/eyJ[\w-]+\.eyJ/);
    } finally {
      agent.proc.kill('SIGTERM');
    }
    expect(await agent.exited).toBe(0);
  }, T);

  test('supervisor mode: runs the child with KUBECONFIG and exits with its code', async () => {
    const env = s.env(s.ci);
    const tokenFile = path.join(env.HOME!, 'token');
    const agent = startAgent([`${s.mount}/demo-generated`, '-n', 'default', '--token-file', tokenFile, '--', '/bin/sh', '-c', 'test -n "$KUBECONFIG" && kubectl get pods -o name >/dev/null && exit 7'], env);
    expect(await agent.exited).toBe(7);
  }, T);

  test('supervisor mode forwards SIGTERM to the child', async () => {
    const env = s.env(s.ci);
    const agent = startAgent([`${s.mount}/demo-generated`, '-n', 'default', '--token-file', path.join(env.HOME!, 'token'), '--', '/bin/sh', '-c', 'trap "exit 42" TERM; echo child-ready; while :; do sleep 0.1; done'], env);
    await eventually(() => expect(agent.stderr()).toContain('child-ready'), { timeoutMs: 60_000 });
    agent.proc.kill('SIGTERM');
    expect(await agent.exited).toBe(42);
  }, T);

  test('--revoke-on-exit leaves no lease behind on SIGTERM', async () => {
    const env = s.env(s.ci, { KUBELEASE_TEST_REFRESH_AFTER_MS: '1000' });
    const tokenFile = path.join(env.HOME!, 'token');
    const agent = startAgent([`${s.mount}/demo-bind-role`, '-n', 'default', '--token-file', tokenFile, '--revoke-on-exit'], env);
    await eventually(() => expect(leasesIn(agent.stderr()).length).toBeGreaterThanOrEqual(2), { timeoutMs: 60_000 });
    const token = readFileSync(tokenFile, 'utf8');
    agent.proc.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const issued = leasesIn(agent.stderr());
    for (const id of issued) expect(agent.stderr()).toContain(`revoked ${id}`);
    const left = JSON.parse((await s.cli(['leases', `${s.mount}/demo-bind-role`, '-o', 'json'], s.env(s.admin))).stdout) as { id: string }[];
    expect(left.map((l) => l.id).filter((id) => issued.includes(id))).toEqual([]);
    await eventually(async () => expect(await podsStatus(token)).toBe(401), { timeoutMs: 60_000, intervalMs: 1_000 });
  }, T);

  test('--exit-after-auth writes the files once and exits 0', async () => {
    const env = s.env(s.ci);
    const tokenFile = path.join(env.HOME!, 'token');
    const agent = startAgent([`${s.mount}/demo-generated`, '-n', 'default', '--token-file', tokenFile, '--exit-after-auth'], env);
    expect(await agent.exited).toBe(0);
    expect(await podsStatus(readFileSync(tokenFile, 'utf8'))).toBe(200);
  }, T);

  test('a config file with two credentials renders both templates; the listener proxies with the current token', async () => {
    const env = s.env(s.ci, { KUBELEASE_TEST_REFRESH_AFTER_MS: '2000' });
    const dir = env.HOME!;
    writeFileSync(path.join(dir, 'web.tmpl'), 'TOKEN={{ .Token }}\nSERVER={{ .Server }}\nNAMESPACE={{ .Namespace }}\nEXPIRES={{ .Expiry }}\n');
    writeFileSync(path.join(dir, 'ops.tmpl'), 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "{{ .Server }}", certificate-authority-data: "{{ .CACertBase64 }}"}}]\nusers: [{name: u, user: {token: "{{ .Token }}"}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: "{{ .Namespace }}"}}]\ncurrent-context: x\n');
    writeFileSync(
      path.join(dir, 'agent.yaml'),
      [
        'credentials:',
        '  - name: web',
        `    role: ${s.mount}/demo-generated`,
        '    namespace: default',
        '    sinks: [{type: file, path: web.token, mode: "0640"}]',
        '    templates: [{source: web.tmpl, destination: out/web.env}]',
        '    listener: {address: "127.0.0.1:0"}',
        '  - name: ops',
        `    role: ${s.mount}/demo-bind-role`,
        '    namespace: default',
        '    templates: [{source: ops.tmpl, destination: out/ops.kubeconfig, perms: "0600", command: "echo ops-rendered"}]',
        '',
      ].join('\n'),
    );
    const agent = startAgent(['--config', path.join(dir, 'agent.yaml')], env);
    try {
      await eventually(() => expect(agent.stderr()).toMatch(/web: listening on http:\/\/127\.0\.0\.1:\d+/), { timeoutMs: 60_000 });
      const web = readFileSync(path.join(dir, 'out', 'web.env'), 'utf8');
      const token = /^TOKEN=(\S+)$/m.exec(web)![1]!;
      expect(web).toContain(`SERVER=${bed.apiserver.url}\nNAMESPACE=default\nEXPIRES=`);
      expect(readFileSync(path.join(dir, 'web.token'), 'utf8')).toBe(token);
      expect(statSync(path.join(dir, 'web.token')).mode & 0o777).toBe(0o640);
      expect(agent.stderr()).toContain('ops-rendered');
      const k = await run('kubectl', ['--kubeconfig', path.join(dir, 'out', 'ops.kubeconfig'), 'get', 'pods', '-o', 'name'], env);
      expect({ code: k.code, stdout: k.stdout }).toEqual({ code: 0, stdout: '' });

      // both templates are re-rendered on refresh
      await eventually(() => expect(/^TOKEN=(\S+)$/m.exec(readFileSync(path.join(dir, 'out', 'web.env'), 'utf8'))![1]).not.toBe(token), { timeoutMs: 60_000 });
      await eventually(() => expect(agent.stderr().match(/ops-rendered/g)!.length).toBeGreaterThanOrEqual(2), { timeoutMs: 60_000 });

      const url = /web: listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(agent.stderr())![1]!;
      const res = await fetch(`${url}/api/v1/namespaces/default/pods`, { headers: { authorization: 'Bearer not-a-token' } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { kind: string }).kind).toBe('PodList');
      const direct = await fetch(`${url}/api/v1/namespaces/kube-system/secrets`);
      expect(direct.status).toBe(403); // the generated role's token, nothing more
    } finally {
      agent.proc.kill('SIGTERM');
    }
    expect(await agent.exited).toBe(0);
  }, T);

  test('refuses a non-loopback listener and bad configs before issuing anything', async () => {
    const env = s.env(s.ci);
    const before = s.credsRequests('demo-generated');
    const file = path.join(env.HOME!, 'agent.yaml');
    writeFileSync(file, `credentials:\n  - role: ${s.mount}/demo-generated\n    namespace: default\n    listener: {address: "0.0.0.0:8301"}\n`);
    const r = await run(process.execPath, [CLI_BIN, 'agent', '--config', file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kubelease: ${file}: credentials[0].listener.address: "0.0.0.0:8301" is not a loopback address; the listener attaches the agent's token to every request, so it binds to 127.0.0.1 or ::1 only; fix: use 127.0.0.1:PORT (in a Pod, containers share the loopback interface)\n`);
    const flag = await run(process.execPath, [CLI_BIN, 'agent', `${s.mount}/demo-generated`, '--token-file', path.join(env.HOME!, 't'), '--listen', '192.168.1.1:80'], env);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^kubelease: --listen: "192\.168\.1\.1:80" is not a loopback address/);
    writeFileSync(path.join(env.HOME!, 'bad.tmpl'), '{{ .Password }}');
    writeFileSync(file, `credentials:\n  - role: ${s.mount}/demo-generated\n    namespace: default\n    templates: [{source: bad.tmpl, destination: out}]\n`);
    const tmpl = await run(process.execPath, [CLI_BIN, 'agent', '--config', file], env);
    expect({ code: tmpl.code, stderr: tmpl.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/^kubelease: template .*bad\.tmpl: unknown variable \.Password; fix: use one of \.Token, /) });
    expect(s.credsRequests('demo-generated')).toBe(before);
  }, T);

  test('a first issuance that fails ends the agent with one line', async () => {
    const env = s.env(s.ci);
    const r = await run(process.execPath, [CLI_BIN, 'agent', `${s.mount}/demo-generated`, '-n', 'kube-system', '--token-file', path.join(env.HOME!, 't')], env);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^kubelease: POST .*: 400 .*kubernetes_namespace/);
  }, T);
});
