/**
 * From an STS identity to a Kubernetes user, as EKS does it: aws-iam-authenticator's
 * `arn.Canonicalize` (an assumed-role session ARN becomes its role's IAM ARN, without path),
 * then a lookup of the lower-cased canonical ARN in the access entries (or `aws-auth`
 * `mapRoles`), then the username and group templates ({{AccountID}}, {{SessionName}} with `@`
 * turned into `-`, {{SessionNameRaw}}, {{AccessKeyID}}). An unmapped identity is refused.
 */

export interface Identity {
  /** the ARN GetCallerIdentity returned */
  arn: string;
  canonicalArn: string;
  accountId: string;
  /** AROA… for roles, the whole UserId for users */
  userId: string;
  sessionName: string;
  accessKeyId: string;
}

/**
 * One mapping. `username` omitted: the EKS access-entry default — for a role
 * `arn:aws:sts::<account>:assumed-role/<role>/{{SessionName}}`, for a user its ARN.
 */
export interface AccessEntry {
  principalArn: string;
  username?: string;
  groups: string[];
}

export class MappingError extends Error {}

const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc']);

/** pkg/arn Canonicalize: returns the principal type and the canonical ARN. */
export function canonicalize(arn: string): { type: 'assumed-role' | 'federated-user' | 'role' | 'user' | 'root'; arn: string } {
  const m = /^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)$/.exec(arn);
  if (!m) throw new MappingError(`arn '${arn}' is invalid`);
  const [, partition, service, , account, resource] = m as unknown as [string, string, string, string, string, string];
  if (!PARTITIONS.has(partition)) throw new MappingError(`partition ${partition} is not recognized`);
  const parts = resource.split('/');
  const kind = parts[0];
  if (service === 'sts') {
    if (kind === 'federated-user') return { type: 'federated-user', arn };
    if (kind === 'assumed-role') {
      if (parts.length < 3) throw new MappingError(`assumed-role arn '${arn}' does not have a role`);
      return { type: 'assumed-role', arn: `arn:${partition}:iam::${account}:role/${parts.slice(1, -1).join('/')}` };
    }
    throw new MappingError(`unrecognized resource ${resource} for service sts`);
  }
  if (service === 'iam') {
    if (kind === 'role' || kind === 'user') return { type: kind, arn };
    if (kind === 'root') return { type: 'root', arn };
    throw new MappingError(`unrecognized resource ${resource} for service iam`);
  }
  throw new MappingError(`service ${service} in arn ${arn} is not a valid service for identities`);
}

/** Builds the Identity the way Verify does from GetCallerIdentity's Account, Arn and UserId. */
export function identityFrom(result: { Account: string; Arn: string; UserId: string }, accessKeyId: string): Identity {
  const { type, arn: canonicalArn } = canonicalize(result.Arn);
  let userId = result.UserId;
  let sessionName = '';
  if (type !== 'federated-user' && type !== 'user' && type !== 'root') {
    const parts = result.UserId.split(':');
    if (parts.length !== 2) throw new MappingError(`malformed UserID "${result.UserId}"`);
    [userId, sessionName] = parts as [string, string];
  }
  return { arn: result.Arn, canonicalArn, accountId: result.Account, userId, sessionName, accessKeyId };
}

function render(template: string, id: Identity): string {
  return template
    .split('{{AccountID}}').join(id.accountId)
    .split('{{SessionName}}').join(id.sessionName.replace(/@/g, '-'))
    .split('{{SessionNameRaw}}').join(id.sessionName)
    .split('{{AccessKeyID}}').join(id.accessKeyId);
}

function defaultUsername(principalArn: string): string {
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principalArn);
  return role ? `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/{{SessionName}}` : principalArn;
}

export class AccessEntries {
  private readonly byArn: Map<string, AccessEntry>;

  constructor(entries: AccessEntry[]) {
    this.byArn = new Map(entries.map((e) => [e.principalArn.toLowerCase(), e]));
  }

  /** username and groups of a verified identity; MappingError when no entry matches */
  map(id: Identity): { username: string; groups: string[] } {
    const entry = this.byArn.get(id.canonicalArn.toLowerCase());
    if (!entry) throw new MappingError(`ARN is not mapped: ${id.canonicalArn}`);
    return {
      username: render(entry.username ?? defaultUsername(entry.principalArn), id),
      groups: entry.groups.map((g) => render(g, id)),
    };
  }
}
