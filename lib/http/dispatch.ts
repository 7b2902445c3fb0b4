import type { EngineDeps } from '../engine/deps.js';
import type { ApiRequest, ApiResponse } from './api.js';
import { errorResponse } from './errors.js';
import { checkPathParameters } from './path-params.js';
import { pathConfig, pathMounts } from './path_config.js';
import { pathCreds } from './path_creds.js';
import { pathLeaseLookup, pathLeaseRevoke, pathLeasesList } from './path_leases.js';
import { pathRoleCheck, pathRoles, pathRolesList } from './path_roles.js';

type Op = (deps: EngineDeps, req: ApiRequest) => Promise<ApiResponse>;

const ops: Record<string, Op> = {
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
  const op = ops[req.op];
  if (!op) return { status: 404, body: { errors: [`no handler for ${req.op}`] } };
  try {
    checkPathParameters(req.pathParameters);
    return await op(deps, req);
  } catch (err) {
    return { ...errorResponse(err, req.requestId), error: err };
  }
}
