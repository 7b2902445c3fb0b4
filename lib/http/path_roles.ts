import { checkRole, deleteRole, listRoles, readRole, writeRole, type EngineDeps } from '../engine/index.js';
import { isList, noContent, ok, type ApiRequest, type ApiResponse } from './api.js';
import { methodNotAllowed } from './errors.js';

export async function pathRoles(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  const mount = req.pathParameters.mount ?? '';
  const name = req.pathParameters.name ?? '';
  const caller = req.caller;
  switch (req.method) {
    case 'GET':
      return ok(req, await readRole(deps, { mount, name, caller }));
    case 'POST':
    case 'PUT':
      await writeRole(deps, { mount, name, caller, body: req.body });
      return noContent(req);
    case 'DELETE':
      await deleteRole(deps, { mount, name, caller });
      return noContent(req);
    default:
      return methodNotAllowed(req.method, 'roles/<name>');
  }
}

export async function pathRolesList(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  if (!isList(req)) return methodNotAllowed(req.method, 'roles (use GET ?list=true)');
  return ok(req, await listRoles(deps, { mount: req.pathParameters.mount ?? '', caller: req.caller }));
}

export async function pathRoleCheck(deps: EngineDeps, req: ApiRequest): Promise<ApiResponse> {
  const result = await checkRole(deps, {
    mount: req.pathParameters.mount ?? '',
    name: req.pathParameters.name ?? '',
    caller: req.caller,
    body: req.body,
  });
  return ok(req, result, { warnings: [...result.missing, ...result.notes] });
}
