/** kube-apiserver: TLS on loopback, RBAC, service-account tokens signed with the bed's key. */
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
