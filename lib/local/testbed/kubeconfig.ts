/** kubeconfig files for the harness (cluster-admin certificate) and the broker (token). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';

export function kubeconfigYaml(server: string, caPem: string, user: Record<string, string>, name: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubelease-bed', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: 'kubelease-bed', user: name } }],
    'current-context': name,
  });
}

export function kubeConfigFromFile(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** Writes <dir>/admin.kubeconfig (client certificate in system:masters); returns its path. */
export function writeAdminKubeconfig(dir: string, apiUrl: string, caPem: string, adminCertPem: string, adminKeyPem: string): string {
  const adminKubeconfigPath = path.join(dir, 'admin.kubeconfig');
  writeFileSync(adminKubeconfigPath, kubeconfigYaml(apiUrl, caPem, {
    'client-certificate-data': Buffer.from(adminCertPem).toString('base64'),
    'client-key-data': Buffer.from(adminKeyPem).toString('base64'),
  }, 'kubelease-harness'), { mode: 0o600 });
  return adminKubeconfigPath;
}
