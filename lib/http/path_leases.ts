import { parseLeaseRequest } from '../domain/index.js';
import { listLeases, lookupLease, revokeLease } from '../engine/index.js';
import { isList, noContent, ok } from './api.js';
import { methodNotAllowed } from './errors.js';
import { route } from './path-params.js';

/** `/v1/{mount}/leases[/{role}]?list=true`. */
export const pathLeasesList = route({ required: ['mount'], optional: ['role'] }, async (deps, req) => {
  if (!isList(req)) return methodNotAllowed(req.method, 'leases (use GET ?list=true)');
  const { mount, role } = req.params;
  const warnings: string[] = [];
  return ok(req, await listLeases(deps, { mount, caller: req.caller, warnings, ...(role ? { role } : {}) }), { warnings });
});

/** `/v1/sys/leases/lookup`: the body parsed here, the engine takes a well-formed lease id. */
export const pathLeaseLookup = route({}, async (deps, req) => ok(req, await lookupLease(deps, parseLeaseRequest(req.body), req.caller)));

/** `/v1/sys/leases/revoke`. */
export const pathLeaseRevoke = route({}, async (deps, req) => {
  const { warnings } = await revokeLease(deps, parseLeaseRequest(req.body), req.caller);
  return noContent(req, warnings);
});
