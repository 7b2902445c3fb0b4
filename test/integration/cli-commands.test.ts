/**
 * The built `kubelease` CLI against the local stack (real SigV4, DynamoDB Local) and the test
 * bed's kube-apiserver: every command and output format, and the one-line errors. Tokens are
 * used on the apiserver for real; none appears in output that did not ask for one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { eventually, loadBed } from '../support/bed.js';
import { JWT, podsStatus, requireBuiltCli, run, startCliStack, type CliStack, type Ran } from '../support/cli.js';

const T = 120_000;
const bed = loadBed();
let s: CliStack;
let ciEnv: NodeJS.ProcessEnv;
let adminEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  requireBuiltCli();
  s = await startCliStack('cli-cmd');
  ciEnv = s.env(s.ci);
  adminEnv = s.env(s.admin);
}, T);
afterAll(() => s?.stop(), T);

function ok(r: Ran): Ran {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expect(r.stdout + r.stderr).not.toMatch(/\x1b\[/); // no colour off a TTY
  return r;
}

/** exit 1, exactly one line on stderr, nothing on stdout */
function failsWith(r: Ran, pattern: RegExp): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

const role = 'demo-generated';
const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const target = () => `${s.mount}/${role}`;

describe('creds', () => {
  test('default table output hides the token', async () => {
    const r = ok(await s.cli(['creds', target(), '-n', 'default'], ciEnv));
    expect(r.stdout).toMatch(new RegExp(`^Key +Value\\nlease_id +${s.mount}/creds/${role}/\\S+\\n`));
    expect(r.stdout).toMatch(new RegExp(`\\nkubernetes_host +${esc(bed.apiserver.url)}\\n`));
    expect(r.stdout).toMatch(/\nservice_account_token +\(hidden: use -o token, -o env, -o json or -o kubeconfig\)\n/);
    expect(r.stdout + r.stderr).not.toMatch(JWT);
  }, T);

  test('-o json: the Vault envelope with the additive kubernetes_host and kubernetes_ca_cert', async () => {
    const r = ok(await s.cli(['creds', target(), '-n', 'default', '-o', 'json'], ciEnv));
    const res = JSON.parse(r.stdout) as { lease_id: string; lease_duration: number; renewable: boolean; data: Record<string, string> };
    expect(res.lease_id.startsWith(`${s.mount}/creds/${role}/`)).toBe(true);
    expect(res.renewable).toBe(false);
    expect(res.lease_duration).toBeGreaterThan(3500);
    expect(res.data.kubernetes_host).toBe(bed.apiserver.url);
    expect(res.data.kubernetes_ca_cert).toBe(bed.apiserver.caPem);
    expect(res.data.service_account_namespace).toBe('default');
    expect(await podsStatus(res.data.service_account_token!)).toBe(200);
  }, T);

  test('-o token prints the token alone; it works', async () => {
    const r = ok(await s.cli(['creds', target(), '-n', 'default', '-o', 'token', '--ttl', '15m'], ciEnv));
    expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await podsStatus(r.stdout.trim())).toBe(200);
  }, T);

  test('-o env prints KUBELEASE_* lines a shell can source', async () => {
    const r = ok(await s.cli(['creds', target(), '-n', 'default', '-o', 'env'], ciEnv));
    const vars = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(Object.keys(vars)).toEqual(['KUBELEASE_LEASE_ID', 'KUBELEASE_TOKEN', 'KUBELEASE_NAMESPACE', 'KUBELEASE_SERVICE_ACCOUNT', 'KUBELEASE_SERVER', 'KUBELEASE_CA_DATA', 'KUBELEASE_EXPIRES_AT']);
    expect(vars.KUBELEASE_SERVER).toBe(bed.apiserver.url);
    expect(Buffer.from(vars.KUBELEASE_CA_DATA!, 'base64').toString()).toBe(bed.apiserver.caPem);
    expect(vars.KUBELEASE_NAMESPACE).toBe('default');
    const sourced = await run('/bin/sh', ['-c', `set -a; eval "$(cat)"; printf %s "$KUBELEASE_TOKEN"`], { PATH: process.env.PATH ?? '' }, { input: r.stdout });
    expect(sourced.stdout).toBe(vars.KUBELEASE_TOKEN);
    expect(await podsStatus(sourced.stdout)).toBe(200);
  }, T);

  test('-o kubeconfig prints a complete kubeconfig kubectl uses', async () => {
    const r = ok(await s.cli(['creds', target(), '-n', 'default', '-o', 'kubeconfig', '--context', 'ci-ctx'], ciEnv));
    const doc = parse(r.stdout) as { 'current-context': string; clusters: { cluster: Record<string, string> }[]; contexts: { context: Record<string, string> }[] };
    expect(doc['current-context']).toBe('ci-ctx');
    expect(doc.clusters[0]!.cluster.server).toBe(bed.apiserver.url);
    expect(Buffer.from(doc.clusters[0]!.cluster['certificate-authority-data']!, 'base64').toString()).toBe(bed.apiserver.caPem);
    expect(doc.contexts[0]!.context.namespace).toBe('default');
    const file = path.join(s.tmp, 'creds-kubeconfig');
    writeFileSync(file, r.stdout, { mode: 0o600 });
    const k = ok(await run('kubectl', ['--kubeconfig', file, 'get', 'pods', '-o', 'name'], { PATH: process.env.PATH ?? '', HOME: s.tmp }));
    expect(k.stdout).toBe('');
  }, T);

  test('broker warnings go to stderr, the result still to stdout', async () => {
    const r = ok(await s.cli(['creds', target(), '-n', 'default', '--ttl', '5h', '-o', 'json'], ciEnv));
    expect(r.stderr).toMatch(/^kubelease: warning: broker: .*ttl.*\n$/i);
    expect(JSON.parse(r.stdout).lease_duration).toBeLessThanOrEqual(4 * 3600);
  }, T);

  test('errors: unknown role, namespace not allowed, bad ttl, no credentials, stack down — one line each', async () => {
    failsWith(await s.cli(['creds', `${s.mount}/no-such-role`, '-n', 'default'], ciEnv), /^kubelease: POST \/v1\/.*\/creds\/no-such-role: 403 .*; fix: /);
    failsWith(await s.cli(['creds', target(), '-n', 'kube-system'], ciEnv), /^kubelease: POST .*: 400 .*kubernetes_namespace.*; fix: correct the field named in the message\n$/);
    failsWith(await s.cli(['creds', target(), '-n', 'default', '--ttl', '1m'], ciEnv), /^kubelease: POST .*: 400 ttl: .*600.*; fix: /);
    failsWith(await s.cli(['creds', target(), '-n', 'default'], s.env(undefined)), /^kubelease: no AWS credentials found /);
    failsWith(await s.cli(['creds', target(), '-n', 'default'], { ...ciEnv, KUBELEASE_ADDR: 'http://127.0.0.1:9' }), /^kubelease: cannot reach the broker at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\); fix: /);
  }, T);
});

describe('kubeconfig', () => {
  test('--token prints a kubeconfig with a fresh token', async () => {
    const r = ok(await s.cli(['kubeconfig', target(), '-n', 'default', '--token'], ciEnv));
    const doc = parse(r.stdout) as { users: { user: { token: string } }[] };
    expect(await podsStatus(doc.users[0]!.user.token)).toBe(200);
  }, T);

  test('--exec prints the exec plugin kubeconfig and warms the cache; --server skips the request', async () => {
    const env = s.env(s.ci);
    const before = s.credsRequests(role);
    const r = ok(await s.cli(['kubeconfig', target(), '-n', 'default'], env));
    expect(r.stdout).not.toMatch(JWT);
    const doc = parse(r.stdout) as { clusters: { cluster: { server: string } }[]; users: { user: { exec: { command: string; args: string[]; interactiveMode: string } } }[] };
    expect(doc.clusters[0]!.cluster.server).toBe(bed.apiserver.url);
    expect(doc.users[0]!.user.exec).toMatchObject({ command: 'kubelease', args: ['exec-credential', target(), '--addr', s.stack.url, '-n', 'default'], interactiveMode: 'Never' });
    expect(s.credsRequests(role)).toBe(before + 1);
    ok(await s.cli(['kubeconfig', target(), '-n', 'default', '--server', 'https://k.example:6443'], env));
    expect(s.credsRequests(role)).toBe(before + 1);
  }, T);

  test('--merge adds a context to an existing kubeconfig; kubectl then runs on a cache hit', async () => {
    const env = s.env(s.ci);
    const file = path.join(env.HOME!, '.kube', 'config');
    const existing = 'apiVersion: v1\nkind: Config\nclusters:\n- name: keep\n  cluster: {server: "https://keep.example"}\ncontexts: []\nusers: []\ncurrent-context: ""\n';
    ok(await run('/bin/sh', ['-c', `mkdir -p "$(dirname '${file}')" && cat > '${file}'`], env, { input: existing }));
    const r = ok(await s.cli(['kubeconfig', target(), '-n', 'default', '--merge'], env));
    expect(r.stdout).toBe(`context kubelease-${s.mount}-${role}-default in ${file} (current)\n`);
    const doc = parse(readFileSync(file, 'utf8')) as { clusters: { name: string }[]; 'current-context': string };
    expect(doc.clusters.map((c) => c.name)).toEqual(['keep', `kubelease-${s.mount}`]);
    const before = s.credsRequests(role);
    const k = ok(await run('kubectl', ['get', 'pods', '-o', 'name'], env));
    expect(k.stdout).toBe('');
    expect(s.credsRequests(role)).toBe(before);
  }, T);
});

describe('leases, lookup, revoke', () => {
  test('list (table, json), lookup, revoke one, revoke --prefix within what the caller may revoke', async () => {
    const issue = async (env: NodeJS.ProcessEnv) => (JSON.parse(ok(await s.cli(['creds', `${s.mount}/demo-bind-role`, '-n', 'default', '-o', 'json'], env)).stdout) as { lease_id: string; data: { service_account_token: string } });
    const a = await issue(ciEnv);
    const b = await issue(ciEnv);
    const mine = await issue(adminEnv);

    const table = ok(await s.cli(['leases', `${s.mount}/demo-bind-role`], ciEnv)).stdout.split('\n');
    expect(table[0]).toMatch(/^LEASE ID +ROLE +NAMESPACE +SERVICE ACCOUNT +ISSUED +EXPIRES IN +HOLDER$/);
    const ids = table.slice(1).filter(Boolean).map((l) => l.split(/\s+/)[0]);
    expect(ids).toEqual(expect.arrayContaining([a.lease_id, b.lease_id]));
    expect(ids).not.toContain(mine.lease_id); // ci sees its own only
    expect(table.find((l) => l.startsWith(a.lease_id))).toMatch(/ demo-bind-role +default +kl-\S+ +\d{4}-\d\d-\d\dT\S+Z +(59m|1h0m)\d+s +arn:aws:sts::000000000000:assumed-role\/kubelease-ci\/local$/);

    const json = JSON.parse(ok(await s.cli(['leases', s.mount, '-o', 'json'], adminEnv)).stdout) as { id: string; caller: string }[];
    expect(json.map((l) => l.id)).toEqual(expect.arrayContaining([a.lease_id, b.lease_id, mine.lease_id]));
    const everywhere = JSON.parse(ok(await s.cli(['leases', '-o', 'json'], adminEnv)).stdout) as { id: string }[];
    expect(everywhere.map((l) => l.id)).toEqual(expect.arrayContaining([mine.lease_id]));
    failsWith(await s.cli(['leases'], ciEnv), /^kubelease: only admins may list every mount; fix: name the mount: kubelease leases <mount>\n$/);

    const look = ok(await s.cli(['lookup', a.lease_id], ciEnv)).stdout;
    expect(look).toMatch(new RegExp(`\\nid +${esc(a.lease_id)}\\n`));
    expect(JSON.parse(ok(await s.cli(['lookup', a.lease_id, '-o', 'json'], ciEnv)).stdout)).toMatchObject({ id: a.lease_id, role: 'demo-bind-role', renewable: false });
    failsWith(await s.cli(['lookup', mine.lease_id], ciEnv), /: 404 lease_id: lease ".*" not found; fix: /);

    expect(ok(await s.cli(['revoke', a.lease_id], ciEnv)).stdout).toBe(`revoked ${a.lease_id}\n`);
    failsWith(await s.cli(['lookup', a.lease_id], ciEnv), /404/);
    await eventually(async () => expect(await podsStatus(a.data.service_account_token)).toBe(401), { timeoutMs: 60_000, intervalMs: 1_000 });

    const prefix = ok(await s.cli(['revoke', '--prefix', `${s.mount}/demo-bind-role`], ciEnv));
    expect(prefix.stdout).toContain(`revoked ${b.lease_id}\n`);
    expect(prefix.stdout).not.toContain(mine.lease_id);
    ok(await s.cli(['lookup', mine.lease_id], adminEnv)); // not the ci principal's to revoke
    expect(ok(await s.cli(['revoke', '--prefix', `${s.mount}/demo-bind-role`], ciEnv)).stdout).toBe(`no leases under ${s.mount}/demo-bind-role that you may revoke\n`);
    ok(await s.cli(['revoke', '--prefix', s.mount], adminEnv));
    failsWith(await s.cli(['lookup', mine.lease_id], adminEnv), /404/);
  }, T);
});

describe('admin: config and roles', () => {
  test('config list, read, write, delete; refused for non-admins', async () => {
    expect(ok(await s.cli(['config', 'list'], adminEnv)).stdout.split('\n')).toContain(s.mount);
    const read = ok(await s.cli(['config', 'read', s.mount], adminEnv)).stdout;
    expect(read).toMatch(new RegExp(`\\nkubernetes_host +${esc(bed.apiserver.url)}\\n`));
    expect(read).not.toMatch(JWT);
    expect(JSON.parse(ok(await s.cli(['config', 'read', s.mount, '-o', 'json'], adminEnv)).stdout)).toMatchObject({ kubernetes_host: bed.apiserver.url });
    failsWith(await s.cli(['config', 'read', s.mount], ciEnv), /: 403 .*is not an admin principal.*; fix: check that your AWS identity may do this/);

    const other = `${s.mount}-x`.slice(0, 63);
    const ca = path.join(s.tmp, 'ca.pem');
    const jwt = path.join(s.tmp, 'jwt');
    writeFileSync(ca, bed.apiserver.caPem);
    writeFileSync(jwt, bed.broker.token, { mode: 0o600 });
    const yamlFile = path.join(s.tmp, 'config.yaml');
    writeFileSync(yamlFile, `kubernetes_host: ${bed.apiserver.url}\n`);
    expect(ok(await s.cli(['config', 'write', other, yamlFile, `kubernetes_ca_cert=@${ca}`, `service_account_jwt=@${jwt}`], adminEnv)).stdout).toBe(`wrote config of ${other}\n`);
    expect(ok(await s.cli(['config', 'list', '-o', 'json'], adminEnv)).stdout).toContain(`"${other}"`);
    expect(ok(await s.cli(['config', 'delete', other, '--force'], adminEnv)).stdout).toBe(`deleted config of ${other}\n`);
    expect(ok(await s.cli(['config', 'list', '-o', 'json'], adminEnv)).stdout).not.toContain(`"${other}"`);
  }, T);

  test('roles write (YAML file + pairs), read, list, check, delete', async () => {
    const file = path.join(s.tmp, 'role.yaml');
    writeFileSync(file, 'generated_role_rules: |\n  rules:\n  - apiGroups: [""]\n    resources: ["configmaps"]\n    verbs: ["list"]\ntoken_max_ttl: 2h\n');
    const name = `${s.mount}/cli-made`;
    expect(ok(await s.cli(['roles', 'write', name, file, 'allowed_kubernetes_namespaces=default', `allowed_principals=${s.ci.iam_arn}`, 'token_default_ttl=30m'], adminEnv)).stdout).toBe(`wrote role ${name}\n`);
    const role = JSON.parse(ok(await s.cli(['roles', 'read', name, '-o', 'json'], adminEnv)).stdout) as Record<string, unknown>;
    expect(role).toMatchObject({ allowed_kubernetes_namespaces: ['default'], allowed_principals: [s.ci.iam_arn] });
    expect(ok(await s.cli(['roles', 'read', name], adminEnv)).stdout).toMatch(/\nallowed_principals +\["arn:aws:iam::000000000000:role\/kubelease-ci"\]\n/);
    expect(ok(await s.cli(['roles', 'list', s.mount], adminEnv)).stdout).toBe('cli-made\ndemo-bind-role\ndemo-existing-sa\ndemo-generated\n');
    expect(ok(await s.cli(['roles', 'check', name, '-n', 'default'], adminEnv)).stdout).toBe(`ok: the broker can issue ${name} in namespace default\n`);
    expect(JSON.parse(ok(await s.cli(['roles', 'check', name, '-o', 'json'], adminEnv)).stdout)).toMatchObject({ ok: true, missing: [] });
    const token = ok(await s.cli(['creds', name, '-o', 'token'], ciEnv)).stdout.trim();
    expect(await podsStatus(token)).toBe(403); // configmaps only
    expect(ok(await s.cli(['roles', 'delete', name], adminEnv)).stdout).toBe(`deleted role ${name}\n`);
    failsWith(await s.cli(['roles', 'read', name], adminEnv), /: 404 /);
    failsWith(await s.cli(['roles', 'write', name, 'token_max_ttl=forever'], adminEnv), /: 400 token_max_ttl: /);
  }, T);
});

describe('README', () => {
  test('the quick start\'s CLI lines run as written (against this test\'s mount)', async () => {
    const readme = readFileSync(path.join(process.cwd(), 'README.md'), 'utf8');
    const block = readme.split('```sh\n').map((b) => b.split('```')[0]!).find((b) => b.includes('kubelease creds local/'));
    const lines = block!
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => /^(kubelease|kubectl) /.test(l))
      .map((l) => l.replace(/\blocal\//g, `${s.mount}/`).replace(/\bleases local\b/, `leases ${s.mount}`));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const env = s.env(s.ci);
    for (const line of lines) {
      const r = await run('/bin/sh', ['-c', line], env);
      expect({ line, code: r.code }).toEqual({ line, code: 0 });
      expect(r.stderr).not.toMatch(/kubelease: |error/i); // kubectl says "No resources found" on stderr
      expect(r.stdout).not.toMatch(JWT);
    }
  }, T);
});
