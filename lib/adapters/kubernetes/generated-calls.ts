/**
 * The calls of client-node's generated API groups that the Kubernetes adapter makes (cluster.ts),
 * by generated file. cluster.ts types its request factories and response processors with exactly
 * these names, so it can call nothing else; the Lambda bundles keep only these methods and the
 * models they reach (infra/prune-client-node.ts): the other 215 calls of the three groups and 719
 * of the serializer's 765 models are not bundled (issue 13: bundle size and cold start).
 */
export const GENERATED_CALLS = {
  CoreV1Api: [
    'createNamespacedSecret',
    'createNamespacedServiceAccount',
    'createNamespacedServiceAccountToken',
    'deleteNamespacedSecret',
    'deleteNamespacedServiceAccount',
    'listSecretForAllNamespaces',
    'listServiceAccountForAllNamespaces',
    'readNamespace',
    'readNamespacedSecret',
    'readNamespacedServiceAccount',
  ],
  RbacAuthorizationV1Api: [
    'createClusterRole',
    'createClusterRoleBinding',
    'createNamespacedRole',
    'createNamespacedRoleBinding',
    'deleteClusterRole',
    'deleteClusterRoleBinding',
    'deleteNamespacedRole',
    'deleteNamespacedRoleBinding',
    'listClusterRole',
    'listClusterRoleBinding',
    'listRoleBindingForAllNamespaces',
    'listRoleForAllNamespaces',
    'readClusterRole',
    'readClusterRoleBinding',
    'readNamespacedRole',
    'readNamespacedRoleBinding',
  ],
  AuthorizationV1Api: ['createSelfSubjectAccessReview'],
} as const;
