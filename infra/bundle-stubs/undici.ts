/**
 * Bundled in place of undici (issue 13, ~740 KB): client-node's default HTTP library imports its
 * `fetch`, which the broker never calls — every Kubernetes request goes through HttpsTransport
 * (lib/adapters/kubernetes/transport.ts) on node:https.
 */
export function fetch(): never {
  throw new Error('undici is not bundled: Kubernetes requests go through HttpsTransport (node:https)');
}
