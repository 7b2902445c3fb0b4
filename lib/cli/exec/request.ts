/** What an exec-credential invocation asks for, from its parsed flags; shared by the hit and miss paths. */
import { bool, str, type Parsed } from '../core/command.js';
import { parseTarget } from '../core/target.js';
import { normalizeAddress } from '../client/endpoint.js';
import { callerIdentity } from '../client/identity.js';
import { cacheKey } from '../cache/key.js';

export interface ExecRequest {
  addr: string;
  mount: string;
  role: string;
  namespace?: string | undefined;
  ttl?: string | undefined;
  audiences?: string | undefined;
  clusterRoleBinding: boolean;
  profile?: string | undefined;
  key: string;
}

export function execRequest(p: Parsed, env: NodeJS.ProcessEnv, command = 'exec-credential'): ExecRequest {
  const { mount, role } = parseTarget(p.positionals[0], command);
  const addr = normalizeAddress(str(p, 'addr'), env);
  const r = {
    addr,
    mount,
    role,
    namespace: str(p, 'namespace'),
    ttl: str(p, 'ttl'),
    audiences: str(p, 'audiences'),
    clusterRoleBinding: bool(p, 'cluster-role-binding'),
    profile: str(p, 'profile'),
  };
  return { ...r, key: cacheKey({ ...r, identity: callerIdentity(env, r.profile) }) };
}
