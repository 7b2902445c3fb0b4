import { invalid, namespaceAllowed, type Role } from '../domain/index.js';
import type { KubeCluster } from '../ports.js';

/** The namespace must exist, and be allowed by name or by its labels (selector). */
export async function assertNamespaceAllowed(kube: KubeCluster, role: Role, namespace: string): Promise<void> {
  const labels = await kube.getNamespaceLabels(namespace);
  if (labels === undefined) throw invalid(`kubernetes_namespace: namespace "${namespace}" does not exist in the cluster`);
  namespaceAllowed(role, namespace, labels);
}
