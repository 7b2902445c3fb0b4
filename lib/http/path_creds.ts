import { issueCreds } from '../engine/index.js';
import { ok } from './api.js';
import { route } from './path-params.js';

/** `/v1/{mount}/creds/{role}`: a token, Vault's lease envelope. */
export const pathCreds = route({ required: ['mount', 'role'] }, async (deps, req) => {
  const issued = await issueCreds(deps, { mount: req.params.mount, roleName: req.params.role, caller: req.caller, body: req.body });
  const res = ok(req, issued.data, {
    lease_id: issued.lease.lease_id,
    lease_duration: issued.leaseDuration,
    renewable: false,
    warnings: issued.warnings,
  });
  return { ...res, mode: issued.mode };
});
