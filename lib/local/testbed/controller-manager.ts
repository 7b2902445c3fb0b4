/**
 * kube-controller-manager: garbage-collects, deletes namespaces, gives each its `default`
 * ServiceAccount.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Proc, Supervisor } from './processes.js';
import { waitFor } from './wait-for.js';

/**
 * No serving at all: both ports 0. Not the legacy serviceaccount-token controller: EKS (1.24 on)
 * mints no Secret per ServiceAccount, nothing here reads one (every token is a TokenRequest), and
 * on this 1.20 build it spent about 28 ms of CPU per ServiceAccount created, for more than 20 s
 * after a burst, inside whatever the bed ran next. Without it a hand-made
 * `kubernetes.io/service-account-token` Secret (deploy.md's static-JWT recipe) stays empty here,
 * which 1.20 cannot separate from the per-ServiceAccount Secrets; no test makes one.
 */
export function startControllerManager(sup: Supervisor, bin: string, adminKubeconfigPath: string): Proc {
  return sup.start('kube-controller-manager', bin, [
    `--kubeconfig=${adminKubeconfigPath}`,
    '--controllers=serviceaccount,garbagecollector,namespace,clusterrole-aggregation',
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
