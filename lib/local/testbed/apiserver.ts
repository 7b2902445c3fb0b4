/** kube-apiserver: TLS on loopback, RBAC, service-account tokens signed with the bed's key, EKS tokens via a webhook. */
import path from 'node:path';
import { AUDIENCES, ISSUER } from './constants.js';
import { request } from './http-probe.js';
import type { Pki } from './pki.js';
import type { Proc, Supervisor } from './processes.js';
import { waitFor } from './wait-for.js';

export interface ApiserverConfig {
  dir: string;
  etcdUrl: string;
  port: number;
  pki: Pki;
  /** kubeconfig of the bed's EKS authenticator (TokenReview v1 webhook) */
  tokenWebhookKubeconfig: string;
}

/** Starts at once, without waiting for etcd: it retries etcd until etcd has elected itself. */
export function startApiserver(sup: Supervisor, bin: string, c: ApiserverConfig): { proc: Proc; url: string } {
  const { pki } = c;
  const proc = sup.start('kube-apiserver', bin, [
    `--etcd-servers=${c.etcdUrl}`,
    '--bind-address=127.0.0.1', `--secure-port=${c.port}`, '--insecure-port=0',
    '--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none',
    `--cert-dir=${path.join(c.dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=Node,RBAC',
    `--service-account-issuer=${ISSUER}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--api-audiences=${AUDIENCES.join(',')}`,
    // EKS tokens (k8s-aws-v1.…) go to the bed's aws-iam-authenticator stand-in. No webhook-level
    // cache (EKS keeps 2 min): a refused token is refused at once; the apiserver's own 10 s cache
    // of successful authentications still applies, as everywhere.
    `--authentication-token-webhook-config-file=${c.tokenWebhookKubeconfig}`,
    '--authentication-token-webhook-version=v1',
    '--authentication-token-webhook-cache-ttl=0s',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount',
    '--allow-privileged=false',
    '--profiling=false',
    '--v=1',
  ]);
  return { proc, url: `https://127.0.0.1:${c.port}` };
}

export async function waitForApiserver(proc: Proc, url: string, tls: { ca: string; cert: string; key: string }): Promise<void> {
  await waitFor('kube-apiserver /readyz', proc, 90_000, async () => (await request(`${url}/readyz`, tls)).status === 200);
}
