/**
 * The bed hands its children ports it probed and released: another process can bind one before
 * the child does (a CI run of 2026-12-07 lost its apiserver's port so). A child that reports its
 * port busy is started again on new ports instead of failing the run. Starts a second, real bed
 * beside the suite's, with the apiserver's first port held by this test.
 */
import net from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { startTestBed } from '../../lib/local/testbed/index.js';
import { freePorts } from '../../lib/local/testbed/ports.js';
import { adminKubeConfig } from '../support/bed.js';

const namespacesOf = async (kc: k8s.KubeConfig) => (await kc.makeApiClient(k8s.CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name);

test('a child whose port was taken after the probe is started again on new ports', async () => {
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const taken = (squatter.address() as net.AddressInfo).port;
  let probes = 0;
  // the bed's order: etcd client, etcd peer, apiserver, DynamoDB Local
  const ports = async (n: number) => {
    const fresh = await freePorts(n);
    return probes++ === 0 ? fresh.map((p, i) => (i === 2 ? taken : p)) : fresh;
  };
  const lines: string[] = [];
  const bed = await startTestBed({ ports, log: (line) => lines.push(line) }).finally(() => squatter.close());
  try {
    expect(lines).toContain('kube-apiserver: a port it was given is busy (another process took it after we probed it); starting again on new ports (attempt 2 of 3)');
    expect(probes).toBe(2);
    expect(new URL(bed.apiserver.url).port).not.toBe(String(taken));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(bed.admin.kubeconfigPath);
    expect(await namespacesOf(kc)).toContain('kube-system');
    // a second bed in the suite's process leaves the suite's bed running
    expect(lines.filter((line) => line.startsWith('killing leftover'))).toEqual([]);
    expect(await namespacesOf(adminKubeConfig())).toContain('kube-system');
  } finally {
    await bed.stop();
  }
});
