/**
 * The route table, shared by the CDK REST API (infra/), the local HTTP server (lib/local)
 * and the handlers' dispatch, so routing is written once.
 * Paths use API Gateway resource syntax. Static siblings (`mounts`, `sys`) win over `{mount}`,
 * as in API Gateway.
 */
export type FunctionName = 'config' | 'roles' | 'creds' | 'leases';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
/** One typed handler per operation (lib/http/dispatch.ts); audit records and metrics name it. */
export type RouteOp = 'mounts.list' | 'config' | 'roles.list' | 'roles' | 'roles.check' | 'creds' | 'leases.list' | 'leases.lookup' | 'leases.revoke';

export interface Route {
  /** API Gateway resource path */
  path: string;
  methods: HttpMethod[];
  fn: FunctionName;
  /** the operation: picks the typed handler, names audit records and metrics */
  op: RouteOp;
}

export const routes: readonly Route[] = [
  { path: '/v1/mounts', methods: ['GET'], fn: 'config', op: 'mounts.list' },
  { path: '/v1/{mount}/config', methods: ['GET', 'POST', 'PUT', 'DELETE'], fn: 'config', op: 'config' },
  { path: '/v1/{mount}/roles', methods: ['GET'], fn: 'roles', op: 'roles.list' },
  { path: '/v1/{mount}/roles/{name}', methods: ['GET', 'POST', 'PUT', 'DELETE'], fn: 'roles', op: 'roles' },
  { path: '/v1/{mount}/roles/{name}/check', methods: ['POST', 'PUT'], fn: 'roles', op: 'roles.check' },
  { path: '/v1/{mount}/creds/{role}', methods: ['POST', 'PUT'], fn: 'creds', op: 'creds' },
  { path: '/v1/{mount}/leases', methods: ['GET'], fn: 'leases', op: 'leases.list' },
  { path: '/v1/{mount}/leases/{role}', methods: ['GET'], fn: 'leases', op: 'leases.list' },
  { path: '/v1/sys/leases/lookup', methods: ['POST', 'PUT'], fn: 'leases', op: 'leases.lookup' },
  { path: '/v1/sys/leases/revoke', methods: ['POST', 'PUT'], fn: 'leases', op: 'leases.revoke' },
];

export interface RouteMatch {
  route: Route;
  pathParameters: Record<string, string>;
}

/**
 * Matches decoded path segments (no leading empty segment) like API Gateway does: static
 * segments before `{param}` ones.
 */
export function matchSegments(segments: readonly string[]): RouteMatch | undefined {
  let best: { match: RouteMatch; statics: number } | undefined;
  for (const route of routes) {
    const tmpl = route.path.split('/').slice(1);
    if (tmpl.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let statics = 0;
    let ok = true;
    for (let i = 0; i < tmpl.length && ok; i++) {
      const t = tmpl[i] ?? '';
      const p = segments[i] ?? '';
      if (t.startsWith('{') && t.endsWith('}')) {
        if (p === '') ok = false;
        else params[t.slice(1, -1)] = p;
      } else if (t === p) statics++;
      else ok = false;
    }
    if (ok && (!best || statics > best.statics)) best = { match: { route, pathParameters: params }, statics };
  }
  return best?.match;
}
