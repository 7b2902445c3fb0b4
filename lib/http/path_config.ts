import { deleteConfig, listMounts, readConfig, writeConfig, type EngineDeps } from '../engine/index.js';
import { isList, noContent, ok, type ApiRequest, type ApiResponse } from './api.js';
import { methodNotAllowed } from './errors.js';

export async function pathConfig(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  const mount = req.pathParameters.mount ?? '';
  const caller = req.caller;
  switch (req.method) {
    case 'GET':
      return ok(req, await readConfig(deps, { mount, caller }));
    case 'POST':
    case 'PUT':
      await writeConfig(deps, { mount, caller, body: req.body });
      return noContent(req);
    case 'DELETE': {
      const { revoked } = await deleteConfig(deps, { mount, caller, force: req.query.force === 'true' });
      return noContent(req, revoked > 0 ? [`revoked ${revoked} live lease(s) before deleting the config`] : []);
    }
    default:
      return methodNotAllowed(req.method, 'config');
  }
}

export async function pathMounts(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  if (req.method !== 'GET' || !isList(req)) return methodNotAllowed(req.method, 'mounts (use GET ?list=true)');
  return ok(req, await listMounts(deps, { caller: req.caller }));
}
