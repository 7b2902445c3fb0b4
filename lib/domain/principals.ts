/**
 * allowed_principals matching. A pattern is an IAM/STS ARN where `*` matches any run of
 * characters (including "/" and ":"; as IAM's ArnLike) and `?` exactly one; matching is
 * case-sensitive.
 *
 * Callers authenticated by SigV4 with a role show up as STS assumed-role session ARNs
 * (`arn:aws:sts::123456789012:assumed-role/ci-deployer/session`). Such a caller also matches
 * as its role ARN `arn:aws:iam::123456789012:role/ci-deployer`, so role ARNs and role-ARN
 * patterns (`…:role/ci-*`) work in allowed_principals.
 *
 * Limitation: a session ARN does not carry the role's path. A pattern with a path and no
 * wildcard (`…:role/teams/ci/ci-deployer`) matches by role name — safe because IAM role names
 * are unique per account. A pattern with a path and a wildcard (`…:role/teams/*`) cannot be
 * verified for session callers and does not match them (fails closed); use a pattern without
 * the path (`…:role/ci-*`) instead.
 */
import { quote } from './describe.js';
import { invalid } from './errors.js';
import { isIamArnPattern } from './names.js';

/** Glob match with `*` and `?`, no regex (no backtracking blow-up). */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || (pattern[p] !== '*' && pattern[p] === text[t]))) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

const SESSION = /^arn:(aws[a-z-]*):sts::([0-9]{12}):assumed-role\/([^/]+)\/(.+)$/;

export interface ParsedSession {
  partition: string;
  account: string;
  roleName: string;
  sessionName: string;
}

export function parseAssumedRoleArn(arn: string): ParsedSession | undefined {
  const m = SESSION.exec(arn);
  if (!m) return undefined;
  return { partition: m[1]!, account: m[2]!, roleName: m[3]!, sessionName: m[4]! };
}

/** arn:…:sts::…:assumed-role/R/S → arn:…:iam::…:role/R (path unknown, omitted). */
export function roleArnOfSession(arn: string): string | undefined {
  const s = parseAssumedRoleArn(arn);
  return s ? `arn:${s.partition}:iam::${s.account}:role/${s.roleName}` : undefined;
}

const hasWildcard = (s: string) => /[*?]/.test(s);

export function principalMatches(pattern: string, callerArn: string): boolean {
  if (typeof pattern !== 'string' || typeof callerArn !== 'string' || pattern === '' || callerArn === '') return false;
  if (globMatch(pattern, callerArn)) return true;
  const roleArn = roleArnOfSession(callerArn);
  if (!roleArn) return false;
  if (globMatch(pattern, roleArn)) return true;
  // role ARN with a path, no wildcard: match on the (account-unique) role name
  const parts = pattern.split(':');
  if (parts.length === 6 && parts[2] === 'iam' && !hasWildcard(pattern)) {
    const m = /^role\/(?:.+\/)?([^/]+)$/.exec(parts[5]!);
    if (m) return `${parts.slice(0, 5).join(':')}:role/${m[1]}` === roleArn;
  }
  return false;
}

export function anyPrincipalMatches(patterns: readonly string[], callerArn: string): boolean {
  return patterns.some((p) => principalMatches(p, callerArn));
}

/**
 * A short caller name for templates (`.DisplayName`) and audit: the role name of an
 * assumed-role session, the user name of an IAM user, else the last path segment.
 */
export function displayNameFromArn(arn: string): string {
  const s = parseAssumedRoleArn(arn);
  if (s) return s.roleName;
  const resource = arn.split(':').slice(5).join(':');
  const segs = resource.split('/');
  return segs[segs.length - 1] || resource || arn;
}

/** An admin: an IAM user or role, or an assumed-role session, in one 12-digit account. */
const ADMIN_PRINCIPAL = /^arn:aws(?:-[a-z]+)*:(?:iam|sts)::[0-9]{12}:(?:role|user|assumed-role)\/[\w+=.,@/*?-]+$/;

/**
 * Why an entry of the deployment's admin principals (stack parameter, Lambda environment) is
 * refused, or undefined when it is fine: an IAM/STS ARN or pattern of a role, user or
 * assumed-role session, in one 12-digit account. A bare "*", a malformed entry or a wildcard
 * account would make every caller (of every account) an admin. Used at synth (infra/props.ts)
 * and at cold start (lib/lambda/runtime.ts).
 */
export function adminPrincipalProblem(entry: string): string | undefined {
  const p = entry.trim();
  if (p === '*') return 'a bare "*" would make every caller an admin';
  if (!ADMIN_PRINCIPAL.test(p) || !isIamArnPattern(p)) {
    return 'must be an IAM or STS ARN (pattern) with a 12-digit account, e.g. arn:aws:iam::123456789012:role/platform-*';
  }
  return undefined;
}

/** Checks every entry (adminPrincipalProblem); empty entries are dropped; an empty list means no admin. */
export function checkAdminPrincipals(entries: readonly string[]): string[] {
  const out: string[] = [];
  const errors: string[] = [];
  for (const raw of entries) {
    const p = raw.trim();
    if (p === '') continue;
    const problem = adminPrincipalProblem(p);
    if (problem) errors.push(`admin principal ${quote(p)}: ${problem}`);
    else out.push(p);
  }
  if (errors.length > 0) throw invalid(errors);
  return out;
}
