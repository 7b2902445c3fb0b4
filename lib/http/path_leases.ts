import { listLeases, lookupLease, revokeLease, type EngineDeps } from '../engine/index.js';
import { isList, noContent, ok, type ApiRequest, type ApiResponse } from './api.js';
import { methodNotAllowed } from './errors.js';

export async function pathLeasesList(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  if (!isList(req)) return methodNotAllowed(req.method, 'leases (use GET ?list=true)');
  const role = req.pathParameters.role;
  const warnings: string[] = [];
  const data = await listLeases(deps, { mount: req.pathParameters.mount ?? '', caller: req.caller, warnings, ...(role ? { role } : {}) });
  return ok(req, data, { warnings });
}

export async function pathLeaseLookup(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  return ok(req, await lookupLease(deps, req.body, req.caller));
}

export async function pathLeaseRevoke(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  const { warnings } = await revokeLease(deps, req.body, req.caller);
  return noContent(req, warnings);
}
