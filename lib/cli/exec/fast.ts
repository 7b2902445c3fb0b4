/**
 * The exec plugin's cache-hit path: kubectl runs the plugin on every invocation, so this path
 * loads Node built-ins only (no SDK, no signer, no YAML) and answers from the disk cache when
 * the cached token is fresh. Anything else — help, a parse error, a miss, a refused file —
 * returns false and the full command runs (and explains).
 */
import { parseCommand } from '../core/command.js';
import { execExpirationMs, isFresh } from '../cache/policy.js';
import { cacheDir, checkDir, readEntry } from '../cache/store.js';
import { execCredentialJson, requestedApiVersion } from './exec-info.js';
import { EXEC_OPTIONS } from './options.js';
import { execRequest } from './request.js';

export function tryCacheHit(argv: string[], env: NodeJS.ProcessEnv, write: (s: string) => void, now = Date.now()): boolean {
  try {
    const p = parseCommand({ name: 'exec-credential', options: EXEC_OPTIONS }, argv);
    if (p.values.help || p.values['force-refresh'] || p.positionals.length !== 1 || p.rest.length) return false;
    const req = execRequest(p, env);
    const apiVersion = requestedApiVersion(env);
    const dir = cacheDir(env);
    if (checkDir(dir, false) !== undefined) return false;
    const r = readEntry(dir, req.key);
    if (r.kind !== 'entry') return false;
    const t = { issuedAtMs: r.entry.issued_at, expiresAtMs: r.entry.expires_at };
    if (!isFresh(t, now)) return false;
    write(execCredentialJson(apiVersion, r.entry.token, execExpirationMs(r.entry.expires_at, now)));
    return true;
  } catch {
    return false;
  }
}
