/** What an exec-credential invocation asks for, from its parsed flags; shared by the hit and miss paths. */
import { str, type Parsed } from '../core/command.js';
import { credsRequestFrom, type CredsRequest } from '../core/creds-request.js';
import { normalizeAddress } from '../client/endpoint.js';
import { callerIdentity } from '../client/identity.js';
import { cacheKey, type CacheKey } from '../cache/key.js';

export interface ExecRequest extends CredsRequest {
  addr: string;
  profile?: string | undefined;
  key: CacheKey;
}

export function execRequest(p: Parsed, env: NodeJS.ProcessEnv, command = 'exec-credential'): ExecRequest {
  const r = { ...credsRequestFrom(p, command), addr: normalizeAddress(str(p, 'addr'), env), profile: str(p, 'profile') };
  return { ...r, key: cacheKey({ ...r, identity: callerIdentity(env, r.profile) }) };
}
