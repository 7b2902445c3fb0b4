/**
 * Local stand-ins for IAM principals: the local stack verifies SigV4 signatures against these
 * instead of IAM. Created once, on first start, in
 *   $KUBELEASE_HOME/local-credentials.json                      (when KUBELEASE_HOME is set)
 *   ${XDG_CONFIG_HOME:-~/.config}/kubelease/local-credentials.json   (otherwise)
 * with mode 0600 (directory 0700). Two principals:
 *   admin  an IAM user   arn:aws:iam::000000000000:user/kubelease-admin   (long-term AKIA key)
 *   ci     a role session arn:aws:sts::000000000000:assumed-role/kubelease-ci/local
 *          (ASIA key + session token, like credentials from sts:AssumeRole), so a role's
 *          allowed_principals entry `arn:aws:iam::000000000000:role/kubelease-ci` is matched
 *          against a session ARN exactly as in AWS.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCAL_ACCOUNT_ID = '000000000000';
export const ADMIN_USER_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/kubelease-admin`;
export const CI_ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/kubelease-ci`;
export const CI_SESSION_ARN = `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/kubelease-ci/local`;
export const CREDENTIALS_FILE = 'local-credentials.json';

export interface LocalPrincipal {
  /** `admin` or `ci` */
  name: string;
  /** the caller ARN API Gateway would report (requestContext.identity.userArn) */
  arn: string;
  /** the IAM user/role behind it (for role sessions: the role ARN) */
  iam_arn: string;
  /** requestContext.identity.caller: AIDA… for users, AROA…:<session> for role sessions */
  principal_id: string;
  access_key_id: string;
  secret_access_key: string;
  /** set for temporary (ASIA…) credentials: must be sent as x-amz-security-token */
  session_token?: string;
}

export interface LocalCredentials {
  version: 1;
  account_id: string;
  created_at: string;
  principals: LocalPrincipal[];
}

/** Directory of the credentials file. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBELEASE_HOME) return path.resolve(env.KUBELEASE_HOME);
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'kubelease');
}

/** Directory of persistent local-stack data (DynamoDB Local files, the local envelope key). */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBELEASE_HOME) return path.join(path.resolve(env.KUBELEASE_HOME), 'data');
  const base = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'kubelease');
}

export const credentialsPath = (env: NodeJS.ProcessEnv = process.env): string => path.join(configDir(env), CREDENTIALS_FILE);

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomUpper = (n: number) => Array.from({ length: n }, () => UPPER_ALNUM[randomInt(UPPER_ALNUM.length)]).join('');
/** 40 characters like an AWS secret access key (base64 alphabet) */
const randomSecret = () => randomBytes(30).toString('base64');

export function generateCredentials(now = new Date()): LocalCredentials {
  return {
    version: 1,
    account_id: LOCAL_ACCOUNT_ID,
    created_at: now.toISOString(),
    principals: [
      {
        name: 'admin',
        arn: ADMIN_USER_ARN,
        iam_arn: ADMIN_USER_ARN,
        principal_id: `AIDA${randomUpper(17)}`,
        access_key_id: `AKIA${randomUpper(16)}`,
        secret_access_key: randomSecret(),
      },
      {
        name: 'ci',
        arn: CI_SESSION_ARN,
        iam_arn: CI_ROLE_ARN,
        principal_id: `AROA${randomUpper(17)}:local`,
        access_key_id: `ASIA${randomUpper(16)}`,
        secret_access_key: randomSecret(),
        session_token: `IQoJb3JpZ2luX2VjE${randomBytes(48).toString('base64url')}`,
      },
    ],
  };
}

function validate(value: unknown, file: string): LocalCredentials {
  const bad = (why: string) =>
    new Error(`${file}: ${why}; fix it or delete the file to get new local credentials on the next start`);
  if (typeof value !== 'object' || value === null) throw bad('not a JSON object');
  const v = value as Partial<LocalCredentials>;
  if (v.version !== 1) throw bad('version must be 1');
  if (!Array.isArray(v.principals) || v.principals.length === 0) throw bad('principals must be a non-empty array');
  const keys = new Set<string>();
  for (const [i, p] of v.principals.entries()) {
    for (const f of ['name', 'arn', 'iam_arn', 'principal_id', 'access_key_id', 'secret_access_key'] as const) {
      if (typeof p?.[f] !== 'string' || p[f] === '') throw bad(`principals[${i}].${f} must be a non-empty string`);
    }
    if (p.session_token !== undefined && typeof p.session_token !== 'string') throw bad(`principals[${i}].session_token must be a string`);
    if (keys.has(p.access_key_id)) throw bad(`principals[${i}].access_key_id is used twice`);
    keys.add(p.access_key_id);
  }
  return { account_id: LOCAL_ACCOUNT_ID, created_at: '', ...v } as LocalCredentials;
}

export interface LoadedCredentials {
  path: string;
  /** true when this call wrote the file */
  created: boolean;
  credentials: LocalCredentials;
}

/** Reads the credentials file, creating it (dir 0700, file 0600) on first use. */
export function loadOrCreateCredentials(env: NodeJS.ProcessEnv = process.env): LoadedCredentials {
  const file = credentialsPath(env);
  if (!existsSync(file)) {
    const dir = path.dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fresh = generateCredentials();
    try {
      writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      return { path: file, created: true, credentials: fresh };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // created concurrently: read theirs
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); delete it to get new local credentials`);
  }
  // tighten permissions a user may have loosened by copying the file around
  try {
    chmodSync(file, 0o600);
  } catch {
    /* not ours to change: still usable */
  }
  return { path: file, created: false, credentials: validate(parsed, file) };
}

export function principal(creds: LocalCredentials, name: string): LocalPrincipal {
  const p = creds.principals.find((x) => x.name === name);
  if (!p) throw new Error(`local credentials have no principal named ${name}`);
  return p;
}

/** Lookup function for the SigV4 verifier. */
export function keyLookup(creds: LocalCredentials): (accessKeyId: string) => LocalPrincipal | undefined {
  const byKey = new Map(creds.principals.map((p) => [p.access_key_id, p]));
  return (id) => byKey.get(id);
}
