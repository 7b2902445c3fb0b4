/**
 * What a credential request asks the broker for — one shape for `creds`, `kubeconfig`, the exec
 * plugin (and its cache key) and the agent's credentials. Built-ins only (cache-hit path).
 */
import { bool, str, type Parsed } from './command.js';
import { parseTarget } from './target.js';

export interface CredsRequest {
  mount: string;
  role: string;
  namespace?: string | undefined;
  ttl?: string | undefined;
  audiences?: string | undefined;
  clusterRoleBinding: boolean;
}

/** `<mount>/<role>` (first positional) and -n/--ttl/--audiences/--cluster-role-binding. */
export function credsRequestFrom(p: Parsed, command: string): CredsRequest {
  const { mount, role } = parseTarget(p.positionals[0], command);
  return { mount, role, namespace: str(p, 'namespace'), ttl: str(p, 'ttl'), audiences: str(p, 'audiences'), clusterRoleBinding: bool(p, 'cluster-role-binding') };
}

/** The POST /v1/<mount>/creds/<role> body: only what was asked for. */
export function credsBody(r: CredsRequest): Record<string, unknown> {
  return {
    ...(r.namespace ? { kubernetes_namespace: r.namespace } : {}),
    ...(r.ttl ? { ttl: r.ttl } : {}),
    ...(r.audiences ? { audiences: r.audiences } : {}),
    ...(r.clusterRoleBinding ? { cluster_role_binding: true } : {}),
  };
}
