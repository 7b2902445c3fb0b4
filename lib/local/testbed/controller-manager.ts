/** kube-controller-manager: mints ServiceAccount tokens, garbage-collects, deletes namespaces. */
import type * as k8s from '@kubernetes/client-node';
import type { Pki } from './pki.js';
import type { Proc, Supervisor } from './processes.js';
import { waitFor } from './wait-for.js';

/** No serving at all: both ports 0. */
export function startControllerManager(sup: Supervisor, bin: string, adminKubeconfigPath: string, pki: Pki): Proc {
  return sup.start('kube-controller-manager', bin, [
    `--kubeconfig=${adminKubeconfigPath}`,
    '--controllers=serviceaccount,serviceaccount-token,garbagecollector,namespace,clusterrole-aggregation',
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--use-service-account-credentials=false',
    '--bind-address=127.0.0.1', '--secure-port=0', '--port=0',
    '--leader-elect=false',
    '--concurrent-gc-syncs=5',
    '--v=1',
  ]);
}

/** The controller-manager is ready when it has done real work: the default ServiceAccount exists. */
export async function waitForControllerManager(proc: Proc, core: k8s.CoreV1Api): Promise<void> {
  await waitFor('kube-controller-manager (default ServiceAccount in namespace default)', proc, 60_000, async () => {
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
    return !!sa.metadata?.uid;
  });
}
