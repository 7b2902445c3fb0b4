import { checkRole, deleteRole, listRoles, readRole, writeRole } from '../engine/index.js';
import { isList, noContent, ok } from './api.js';
import { methodNotAllowed } from './errors.js';
import { route } from './path-params.js';

/** `/v1/{mount}/roles/{name}`: read, write, delete. */
export const pathRoles = route({ required: ['mount', 'name'] }, async (deps, req) => {
  const { mount, name } = req.params;
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
});

/** `/v1/{mount}/roles?list=true`. */
export const pathRolesList = route({ required: ['mount'] }, async (deps, req) => {
  if (!isList(req)) return methodNotAllowed(req.method, 'roles (use GET ?list=true)');
  return ok(req, await listRoles(deps, { mount: req.params.mount, caller: req.caller }));
});

/** `/v1/{mount}/roles/{name}/check`: would creds work, and what is missing. */
export const pathRoleCheck = route({ required: ['mount', 'name'] }, async (deps, req) => {
  const result = await checkRole(deps, { mount: req.params.mount, name: req.params.name, caller: req.caller, body: req.body });
  return ok(req, result, { warnings: [...result.missing, ...result.notes] });
});
