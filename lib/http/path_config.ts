import { deleteConfig, listMounts, readConfig, writeConfig } from '../engine/index.js';
import { isList, noContent, ok } from './api.js';
import { methodNotAllowed } from './errors.js';
import { route } from './path-params.js';

/** `/v1/{mount}/config`: read, write, delete (`?force=true` revokes live leases first). */
export const pathConfig = route({ required: ['mount'] }, async (deps, req) => {
  const { mount } = req.params;
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
});

/** `/v1/mounts?list=true`: the mounts this caller may see. */
export const pathMounts = route({}, async (deps, req) => {
  if (req.method !== 'GET' || !isList(req)) return methodNotAllowed(req.method, 'mounts (use GET ?list=true)');
  return ok(req, await listMounts(deps, { caller: req.caller }));
});
