/**
 * Path parameters are parsed by each route, at the edge, before any store is touched: a mount is
 * a DNS-1123 label (not `sys` or `mounts`), a role name follows Vault's pattern. Over-long or
 * malformed names are a 400 naming the parameter, never a DynamoDB key error (502) later.
 */
import type { EngineDeps } from '../engine/deps.js';
import { checkMountName, checkRoleName, invalid, isKubeleaseError } from '../domain/index.js';
import type { ApiRequest, ApiResponse, RouteRequest } from './api.js';

const CHECKS = {
  mount: checkMountName,
  name: checkRoleName,
  role: checkRoleName,
} satisfies Record<string, (value: unknown, field: string) => string>;
type ParamName = keyof typeof CHECKS;

/** A route's path parameters: `R` always present, `O` optional (one op served by two paths). */
export type PathParams<R extends ParamName, O extends ParamName = never> = { [K in R]: string } & { [K in O]?: string };

function parsePathParams<R extends ParamName, O extends ParamName>(raw: Record<string, string>, required: readonly R[], optional: readonly O[]): PathParams<R, O> {
  const errors: string[] = [];
  const known = new Set<string>([...required, ...optional]);
  const params: Record<string, string> = {};
  const check = (key: ParamName, value: string) => {
    try {
      params[key] = CHECKS[key](value, key);
    } catch (e) {
      if (!isKubeleaseError(e)) throw e;
      errors.push(...e.errors);
    }
  };
  for (const [key, value] of Object.entries(raw)) {
    if (known.has(key)) check(key as ParamName, value);
    else errors.push(`${key}: unexpected path parameter`);
  }
  for (const key of required) if (!(key in raw)) check(key, '');
  if (errors.length > 0) throw invalid(errors);
  return params as PathParams<R, O>;
}

/** One route's handler: its path parameters parsed and typed, then the engine call. */
export interface RouteHandler {
  (deps: EngineDeps, req: ApiRequest): Promise<ApiResponse>;
}

export function route<R extends ParamName = never, O extends ParamName = never>(
  spec: { required?: readonly R[]; optional?: readonly O[] },
  handle: (deps: EngineDeps, req: RouteRequest<PathParams<R, O>>) => Promise<ApiResponse>,
): RouteHandler {
  return (deps, req) => handle(deps, { ...req, params: parsePathParams(req.pathParameters, spec.required ?? [], spec.optional ?? []) });
}
