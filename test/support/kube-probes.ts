/** Probes that ask the real apiserver what a token can do. */
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, statusOf, tokenKubeConfig } from './bed.js';

export type Access = 'allowed' | 'forbidden' | 'unauthenticated';

async function probe(call: () => Promise<unknown>): Promise<Access> {
  try {
    await call();
    return 'allowed';
  } catch (e) {
    const status = statusOf(e);
    if (status === 403) return 'forbidden';
    if (status === 401) return 'unauthenticated';
    throw e;
  }
}

export const listPods = (token: string, namespace: string) =>
  probe(() => tokenKubeConfig(token).makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace }));

export const listSecrets = (token: string, namespace: string) =>
  probe(() => tokenKubeConfig(token).makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace }));

/** TokenReview as the harness admin: who the apiserver says the token is, or undefined. */
export async function whoIs(token: string, audiences?: string[]): Promise<string | undefined> {
  const api = adminKubeConfig().makeApiClient(k8s.AuthenticationV1Api);
  const review = await api.createTokenReview({
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } },
  });
  return review.status?.authenticated ? review.status.user?.username : undefined;
}

export async function exists(kind: string, name: string, namespace?: string): Promise<boolean> {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const ns = namespace ?? '';
  const read: Record<string, () => Promise<unknown>> = {
    ServiceAccount: () => core.readNamespacedServiceAccount({ name, namespace: ns }),
    Secret: () => core.readNamespacedSecret({ name, namespace: ns }),
    Role: () => rbac.readNamespacedRole({ name, namespace: ns }),
    RoleBinding: () => rbac.readNamespacedRoleBinding({ name, namespace: ns }),
    ClusterRole: () => rbac.readClusterRole({ name }),
    ClusterRoleBinding: () => rbac.readClusterRoleBinding({ name }),
  };
  const fn = read[kind];
  if (!fn) throw new Error(`unknown kind ${kind}`);
  try {
    await fn();
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw e;
  }
}

/** Labeled objects of one lease, across the kinds the broker creates (as admin). */
export async function objectsOfLease(leaseHash: string): Promise<string[]> {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const labelSelector = `kubelease.io/lease=${leaseHash}`;
  const lists = await Promise.all([
    core.listServiceAccountForAllNamespaces({ labelSelector }).then((l) => l.items.map((o) => `ServiceAccount/${o.metadata?.name}`)),
    core.listSecretForAllNamespaces({ labelSelector }).then((l) => l.items.map((o) => `Secret/${o.metadata?.name}`)),
    rbac.listRoleForAllNamespaces({ labelSelector }).then((l) => l.items.map((o) => `Role/${o.metadata?.name}`)),
    rbac.listRoleBindingForAllNamespaces({ labelSelector }).then((l) => l.items.map((o) => `RoleBinding/${o.metadata?.name}`)),
    rbac.listClusterRole({ labelSelector }).then((l) => l.items.map((o) => `ClusterRole/${o.metadata?.name}`)),
    rbac.listClusterRoleBinding({ labelSelector }).then((l) => l.items.map((o) => `ClusterRoleBinding/${o.metadata?.name}`)),
  ]);
  return lists.flat().sort();
}
