/** Flags of `kubelease exec-credential`, shared by the cache-hit path and the full command. */
import { API_OPTIONS, type Options } from '../core/command.js';

export const CREDS_REQUEST_OPTIONS: Options = {
  namespace: { type: 'string', short: 'n', arg: 'NS', help: 'namespace (required unless the role allows exactly one)' },
  ttl: { type: 'string', arg: 'TTL', help: 'token lifetime, seconds or Go duration (default: the role\'s)' },
  audiences: { type: 'string', arg: 'LIST', help: 'comma-separated token audiences (default: the role\'s)' },
  'cluster-role-binding': { type: 'boolean', help: 'bind the role cluster-wide (only if the role allows it)' },
};

export const EXEC_OPTIONS: Options = {
  ...CREDS_REQUEST_OPTIONS,
  'force-refresh': { type: 'boolean', help: 'ignore the cached token and issue a new one' },
  ...API_OPTIONS,
};
