import { issueCreds, type EngineDeps } from '../engine/index.js';
import { ok, type ApiRequest, type ApiResponse } from './api.js';

export async function pathCreds(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  const issued = await issueCreds(deps, {
    mount: req.pathParameters.mount ?? '',
    roleName: req.pathParameters.role ?? '',
    caller: req.caller,
    body: req.body,
  });
  const res = ok(req, issued.data, {
    lease_id: issued.lease.lease_id,
    lease_duration: issued.leaseDuration,
    renewable: false,
    warnings: issued.warnings,
  });
  return { ...res, mode: issued.mode };
}
