/** Kubeconfig rendering (token, tokenFile, exec) and --merge into an existing file. */
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { kubeconfigTarget, mergeIntoFile, mergeKubeconfigText } from '../../../lib/cli/kubeconfig/merge.js';
import { execSpec, kubeconfigNames, renderKubeconfig, type KubeconfigParts } from '../../../lib/cli/kubeconfig/render.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const names = kubeconfigNames('prod', 'deploy', 'apps');

describe('renderKubeconfig', () => {
  it('names cluster, user and context after mount, role and namespace', () => {
    expect(names).toEqual({ cluster: 'kubelease-prod', user: 'kubelease-prod-deploy-apps', context: 'kubelease-prod-deploy-apps' });
    expect(kubeconfigNames('prod', 'deploy', undefined, 'ci')).toEqual({ cluster: 'kubelease-prod', user: 'ci', context: 'ci' });
  });

  it('renders a complete token kubeconfig: server, CA, token, namespace', () => {
    const doc = renderKubeconfig({ names, cluster: { server: 'https://k8s.example:6443', caPem: CA }, auth: { token: 'tok' }, namespace: 'apps' });
    expect(doc).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      preferences: {},
      clusters: [{ name: 'kubelease-prod', cluster: { server: 'https://k8s.example:6443', 'certificate-authority-data': Buffer.from(CA).toString('base64') } }],
      users: [{ name: 'kubelease-prod-deploy-apps', user: { token: 'tok' } }],
      contexts: [{ name: 'kubelease-prod-deploy-apps', context: { cluster: 'kubelease-prod', user: 'kubelease-prod-deploy-apps', namespace: 'apps' } }],
      'current-context': 'kubelease-prod-deploy-apps',
    });
  });

  it('leaves the CA out when the cluster uses public roots', () => {
    const doc = renderKubeconfig({ names, cluster: { server: 'https://k8s.example', caPem: '' }, auth: { tokenFile: '/run/t' } }) as { clusters: { cluster: object }[]; users: { user: object }[] };
    expect(doc.clusters[0]!.cluster).toEqual({ server: 'https://k8s.example' });
    expect(doc.users[0]!.user).toEqual({ tokenFile: '/run/t' });
  });

  it('renders the exec plugin with interactiveMode Never and an install hint', () => {
    const exec = execSpec({ addr: 'https://b.example/prod', mount: 'prod', role: 'deploy', namespace: 'apps', ttl: '30m', audiences: 'x', clusterRoleBinding: true, region: 'eu-west-1', profile: 'ci' });
    const doc = renderKubeconfig({ names, cluster: { server: 'https://k', caPem: '' }, auth: { exec } }) as { users: { user: { exec: Record<string, unknown> } }[] };
    const e = doc.users[0]!.user.exec;
    expect(e.apiVersion).toBe('client.authentication.k8s.io/v1beta1');
    expect(e.command).toBe('kubelease');
    expect(e.args).toEqual(['exec-credential', 'prod/deploy', '--addr', 'https://b.example/prod', '-n', 'apps', '--ttl', '30m', '--audiences', 'x', '--cluster-role-binding', '--region', 'eu-west-1']);
    expect(e.env).toEqual([{ name: 'AWS_PROFILE', value: 'ci' }]);
    expect(e.interactiveMode).toBe('Never');
    expect(e.provideClusterInfo).toBe(false);
    expect(String(e.installHint)).toContain('kubelease');
  });

  it('takes another command and apiVersion', () => {
    const e = execSpec({ addr: 'http://127.0.0.1:8200', mount: 'local', role: 'r', clusterRoleBinding: false, command: '/opt/kubelease', apiVersion: 'client.authentication.k8s.io/v1' });
    expect(e).toEqual({ apiVersion: 'client.authentication.k8s.io/v1', command: '/opt/kubelease', args: ['exec-credential', 'local/r', '--addr', 'http://127.0.0.1:8200'] });
  });
});

describe('--merge', () => {
  const parts: KubeconfigParts = { names, cluster: { server: 'https://new', caPem: '' }, auth: { token: 'new-token' }, namespace: 'apps' };
  const existing = [
    '# my clusters',
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: other',
    '    cluster: {server: "https://other"}',
    '  - name: kubelease-prod',
    '    cluster: {server: "https://old"}',
    'users:',
    '  - name: other',
    '    user: {token: other-token} # keep me',
    '  - name: kubelease-prod-deploy-apps',
    '    user: {token: old-token}',
    'contexts:',
    '  - name: other',
    '    context: {cluster: other, user: other}',
    'current-context: other',
    '',
  ].join('\n');

  it('replaces entries of the same name, keeps the others and their comments, switches context', () => {
    const text = mergeKubeconfigText(existing, parts);
    const doc = parse(text) as { clusters: { name: string; cluster: { server: string } }[]; users: { name: string; user: { token: string } }[]; contexts: { name: string }[]; 'current-context': string };
    expect(doc.clusters.map((c) => [c.name, c.cluster.server])).toEqual([['other', 'https://other'], ['kubelease-prod', 'https://new']]);
    expect(doc.users.map((u) => [u.name, u.user.token])).toEqual([['other', 'other-token'], ['kubelease-prod-deploy-apps', 'new-token']]);
    expect(doc.contexts.map((c) => c.name)).toEqual(['other', 'kubelease-prod-deploy-apps']);
    expect(doc['current-context']).toBe('kubelease-prod-deploy-apps');
    expect(text).toContain('# my clusters');
    expect(text).toContain('# keep me');
  });

  it('creates a kubeconfig from nothing', () => {
    const doc = parse(mergeKubeconfigText(undefined, parts)) as Record<string, unknown>;
    expect(doc).toEqual(renderKubeconfig(parts));
  });

  it('refuses a file that is not a kubeconfig', () => {
    expect(() => mergeKubeconfigText('- a\n- b\n', parts, 'f')).toThrow(/not a kubeconfig/);
    expect(() => mergeKubeconfigText('a: [\n', parts, 'f')).toThrow(/not valid YAML/);
  });

  it('writes atomically with mode 0600 and through a symlink', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kl-merge-'));
    try {
      const real = path.join(dir, 'real-config');
      writeFileSync(real, existing, { mode: 0o644 });
      const link = path.join(dir, 'config');
      symlinkSync(real, link);
      mergeIntoFile(link, parts);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(statSync(real).mode & 0o777).toBe(0o600);
      expect(readFileSync(real, 'utf8')).toContain('new-token');
      const fresh = path.join(dir, 'sub', 'kubeconfig');
      mergeIntoFile(fresh, parts);
      expect(statSync(path.dirname(fresh)).mode & 0o777).toBe(0o700);
      expect(parse(readFileSync(fresh, 'utf8'))).toEqual(renderKubeconfig(parts));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kubeconfigTarget', () => {
  it('takes --kubeconfig, else the first file of KUBECONFIG, else ~/.kube/config', () => {
    expect(kubeconfigTarget('/x/k', {})).toBe('/x/k');
    expect(kubeconfigTarget(undefined, { KUBECONFIG: `:/a/one${path.delimiter}/b/two`, HOME: '/h' })).toBe('/a/one');
    expect(kubeconfigTarget(undefined, { HOME: '/h' })).toBe('/h/.kube/config');
  });
});
