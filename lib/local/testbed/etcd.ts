/** etcd: a single member on loopback, the kube-apiserver's storage. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BedError } from './errors.js';
import { request } from './http-probe.js';
import { isExecutable } from './is-executable.js';
import { portIsFree } from './ports.js';
import type { Proc, Supervisor } from './processes.js';
import { waitFor } from './wait-for.js';

/** $KUBELEASE_ETCD or the Debian package's binary; throws if it is not there. */
export function etcdBinary(): string {
  const etcdBin = process.env.KUBELEASE_ETCD || '/usr/bin/etcd';
  if (!isExecutable(etcdBin)) throw new BedError(`etcd is not installed (${etcdBin}): apt-get install etcd-server`);
  return etcdBin;
}

/** A persisted etcd remembers its peer URL: reuse the port when we can (recorded in <dir>/ports.json). */
export async function etcdPeerPort(dir: string, persist: boolean, clientPort: number, randomPort: number): Promise<number> {
  const portsFile = path.join(dir, 'ports.json');
  let etcdPeer = randomPort;
  if (persist && existsSync(portsFile)) {
    const saved = (JSON.parse(readFileSync(portsFile, 'utf8')) as { etcdPeer?: number }).etcdPeer;
    if (saved && saved !== clientPort && (await portIsFree(saved))) etcdPeer = saved;
  }
  if (persist) writeFileSync(portsFile, JSON.stringify({ etcdPeer }));
  return etcdPeer;
}

export function startEtcd(sup: Supervisor, bin: string, dir: string, clientPort: number, peerPort: number): { proc: Proc; url: string } {
  const etcdUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const proc = sup.start('etcd', bin, [
    '--name', 'kubelease-bed',
    '--data-dir', path.join(dir, 'etcd'),
    '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `kubelease-bed=${peerUrl}`,
    '--initial-cluster-state', 'new',
    // single member on loopback: elect within ~100 ms instead of the default ~1 s
    '--heartbeat-interval', '20', '--election-timeout', '200',
    '--log-level', 'warn', '--logger', 'zap',
  ]);
  return { proc, url: etcdUrl };
}

export async function waitForEtcd(proc: Proc, url: string): Promise<void> {
  await waitFor('etcd /health', proc, 30_000, async () => {
    const r = await request(`${url}/health`);
    return r.status === 200 && r.body.includes('true');
  });
}
