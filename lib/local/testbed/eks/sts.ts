/**
 * STS as the bed plays it: the account's IAM roles (with trust policies), the sessions the bed
 * issued, and the two actions the broker's EKS path uses, with STS's wire formats:
 *
 * - GetCallerIdentity, presigned (what aws-iam-authenticator forwards an EKS token's URL to): the
 *   SigV4 signature is recomputed with @smithy/signature-v4 (lib/local/sigv4.ts) from the URL and
 *   the headers the authenticator sends, so `x-k8s-aws-id` must carry the cluster id the token
 *   was signed for; valid 15 minutes after X-Amz-Date whatever X-Amz-Expires says; the credential
 *   scope must name the host's region. Answers JSON when asked (Accept: application/json).
 * - AssumeRole (POST, SigV4 header; what the broker's STS client sends to AWS_ENDPOINT_URL_STS):
 *   the caller's role must be trusted by the target role, the ExternalId must match when the
 *   role demands one, DurationSeconds 900..3600. Answers XML (awsQuery).
 *
 * Sessions are ASIA keys with a session token, as from real STS; expired ones are refused.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { MESSAGES, verifySigV4, type IncomingSignedRequest } from '../../sigv4.js';
import { PRESIGNED_URL_EXPIRATION_SECONDS } from './verify-token.js';

const STS_VERSION = '2011-06-15';
const MIN_SESSION_SECONDS = 900;
const MAX_SESSION_SECONDS = 3600;

export interface IamRole {
  /** arn:aws:iam::<account>:role/<name> */
  arn: string;
  /** canonical role ARNs allowed to assume it (trust policy principals) */
  trustedRoleArns?: string[];
  /** trust policy condition sts:ExternalId */
  externalId?: string;
}

export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** arn:aws:sts::<account>:assumed-role/<role>/<session> */
  arn: string;
  /** the role's canonical ARN */
  roleArn: string;
  /** AROA…:<session name>, what GetCallerIdentity returns as UserId */
  userId: string;
  account: string;
  /** undefined: valid for the bed's lifetime */
  expiresAt?: Date;
}

export interface StsRequest {
  method: string;
  /** the Host header: the STS hostname for presigned URLs, 127.0.0.1:<port> on the loopback endpoint */
  host: string;
  path: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

export interface StsReply {
  status: number;
  contentType: string;
  body: string;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomId = (prefix: string, n: number) => prefix + Array.from({ length: n }, () => KEY_ALPHABET[randomInt(KEY_ALPHABET.length)]).join('');
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The region an STS hostname serves (the global endpoint: us-east-1); undefined for the loopback endpoint. */
function regionOfHost(host: string): string | undefined {
  if (host === 'sts.amazonaws.com') return 'us-east-1';
  return /^sts(?:-fips)?\.([a-z0-9-]+)\./.exec(host)?.[1];
}

class StsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class EmulatedSts {
  private readonly roles = new Map<string, IamRole>();
  private readonly sessions = new Map<string, StsSession>();
  private readonly roleIds = new Map<string, string>();

  constructor(
    readonly account: string,
    roles: IamRole[],
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const r of roles) this.roles.set(r.arn.toLowerCase(), r);
  }

  /** A session for `roleArn` as if it had been assumed (the broker's own execution role). */
  issueSession(roleArn: string, sessionName: string, durationSeconds?: number): StsSession {
    const role = this.roles.get(roleArn.toLowerCase());
    if (!role) throw new Error(`no such role in the bed's IAM: ${roleArn}`);
    const name = role.arn.slice(role.arn.indexOf(':role/') + ':role/'.length).split('/').pop() as string;
    let roleId = this.roleIds.get(role.arn);
    if (!roleId) this.roleIds.set(role.arn, (roleId = randomId('AROA', 17)));
    const session: StsSession = {
      accessKeyId: randomId('ASIA', 16),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2VjE${randomBytes(96).toString('base64url')}`,
      arn: `arn:aws:sts::${this.account}:assumed-role/${name}/${sessionName}`,
      roleArn: role.arn,
      userId: `${roleId}:${sessionName}`,
      account: this.account,
      ...(durationSeconds ? { expiresAt: new Date(this.now().getTime() + durationSeconds * 1000) } : {}),
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  async handle(req: StsRequest): Promise<StsReply> {
    const requestId = randomUUID();
    const json = /application\/json/i.test(String(req.headers.accept ?? ''));
    try {
      const caller = await this.authenticate(req);
      const params = req.method === 'POST' ? new URLSearchParams(Buffer.from(req.body).toString('utf8')) : new URLSearchParams(req.rawQuery);
      const action = params.get('Action');
      if (action === 'GetCallerIdentity') return this.getCallerIdentity(caller, requestId, json);
      if (action === 'AssumeRole' && req.method === 'POST') return this.assumeRole(caller, params, requestId);
      throw new StsFault(400, 'InvalidAction', `Could not find operation ${action ?? ''} for version ${STS_VERSION}`);
    } catch (e) {
      if (!(e instanceof StsFault)) throw e;
      const body = json
        ? JSON.stringify({ Error: { Code: e.code, Message: e.message, Type: 'Sender' }, RequestId: requestId })
        : `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/${STS_VERSION}/"><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      return { status: e.status, contentType: json ? 'application/json' : 'text/xml', body };
    }
  }

  private async authenticate(req: StsRequest): Promise<StsSession> {
    const signed: IncomingSignedRequest = {
      method: req.method,
      path: req.path,
      query: req.rawQuery,
      headers: { ...req.headers, host: req.host },
      body: req.body,
    };
    const lookup = (id: string) => {
      const s = this.sessions.get(id);
      return s && { access_key_id: s.accessKeyId, secret_access_key: s.secretAccessKey, session_token: s.sessionToken, session: s };
    };
    const result = await verifySigV4(signed, lookup, {
      service: 'sts',
      now: this.now(),
      presignedLifetimeSeconds: PRESIGNED_URL_EXPIRATION_SECONDS,
    });
    if (!result.ok) {
      const code =
        result.message === MESSAGES.invalidToken ? 'InvalidClientTokenId' : result.message === MESSAGES.missing ? 'MissingAuthenticationToken' : 'SignatureDoesNotMatch';
      throw new StsFault(403, code, result.message);
    }
    const hostRegion = regionOfHost(req.host);
    if (hostRegion !== undefined && result.region !== hostRegion) {
      throw new StsFault(403, 'SignatureDoesNotMatch', `Credential should be scoped to a valid region, not '${result.region}'. `);
    }
    const session = result.principal.session;
    if (session.expiresAt && session.expiresAt.getTime() <= this.now().getTime()) {
      throw new StsFault(403, 'ExpiredToken', 'The security token included in the request is expired');
    }
    return session;
  }

  private getCallerIdentity(caller: StsSession, requestId: string, json: boolean): StsReply {
    const result = { Account: caller.account, Arn: caller.arn, UserId: caller.userId };
    if (json) {
      return {
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ GetCallerIdentityResponse: { GetCallerIdentityResult: result, ResponseMetadata: { RequestId: requestId } } }),
      };
    }
    return {
      status: 200,
      contentType: 'text/xml',
      body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/${STS_VERSION}/"><GetCallerIdentityResult><Arn>${xmlEscape(result.Arn)}</Arn><UserId>${xmlEscape(result.UserId)}</UserId><Account>${result.Account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    };
  }

  private assumeRole(caller: StsSession, params: URLSearchParams, requestId: string): StsReply {
    const roleArn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new StsFault(400, 'ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint`);
    }
    const duration = Number(params.get('DurationSeconds') ?? MAX_SESSION_SECONDS);
    if (!Number.isInteger(duration) || duration < MIN_SESSION_SECONDS || duration > MAX_SESSION_SECONDS) {
      throw new StsFault(400, 'ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`);
    }
    const role = this.roles.get(roleArn.toLowerCase());
    const trusted = role?.trustedRoleArns?.some((a) => a.toLowerCase() === caller.roleArn.toLowerCase()) ?? false;
    const externalIdOk = role?.externalId === undefined || role.externalId === params.get('ExternalId');
    if (!role || !trusted || !externalIdOk) {
      throw new StsFault(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    const s = this.issueSession(role.arn, sessionName, duration);
    return {
      status: 200,
      contentType: 'text/xml',
      body:
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/${STS_VERSION}/"><AssumeRoleResult>` +
        `<AssumedRoleUser><AssumedRoleId>${xmlEscape(s.userId)}</AssumedRoleId><Arn>${xmlEscape(s.arn)}</Arn></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${s.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(s.secretAccessKey)}</SecretAccessKey>` +
        `<SessionToken>${s.sessionToken}</SessionToken><Expiration>${iso(s.expiresAt as Date)}</Expiration></Credentials>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    };
  }
}
