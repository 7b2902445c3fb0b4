import type { EngineDeps } from '../engine/deps.js';
import type { ApiRequest, ApiResponse } from './api.js';
import { errorResponse } from './errors.js';
import type { RouteHandler } from './path-params.js';
import { pathConfig, pathMounts } from './path_config.js';
import { pathCreds } from './path_creds.js';
import { pathLeaseLookup, pathLeaseRevoke, pathLeasesList } from './path_leases.js';
import { pathRoleCheck, pathRoles, pathRolesList } from './path_roles.js';
import type { RouteOp } from './routes.js';

/** Every operation of the route table has its handler: a missing one fails typecheck. */
const handlers: Record<RouteOp, RouteHandler> = {
  'mounts.list': pathMounts,
  config: pathConfig,
  'roles.list': pathRolesList,
  roles: pathRoles,
  'roles.check': pathRoleCheck,
  creds: pathCreds,
  'leases.list': pathLeasesList,
  'leases.lookup': pathLeaseLookup,
  'leases.revoke': pathLeaseRevoke,
};

/** Runs one API operation; every failure becomes a Vault error envelope. */
export async function dispatch(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  try {
    return await handlers[req.op](deps, req);
  } catch (err) {
    return { ...errorResponse(err, req.requestId), error: err };
  }
}
