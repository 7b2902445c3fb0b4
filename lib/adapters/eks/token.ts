/**
 * EKS IAM authentication token, byte-for-byte the scheme of `aws eks get-token` and
 * aws-iam-authenticator: a SigV4-presigned STS GetCallerIdentity URL with the cluster name in the
 * signed `x-k8s-aws-id` header, `X-Amz-Expires=60`, base64url-encoded (no padding) behind
 * `k8s-aws-v1.`. EKS accepts such a token for 15 minutes after X-Amz-Date (and only while the
 * signing credentials are still valid); we hand out the same token for ~10 minutes.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { KubeleaseError } from '../../domain/errors.js';
import { isAwsRegion } from '../../domain/names.js';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** EKS accepts a token this long after signing */
export const TOKEN_VALIDITY_SECONDS = 15 * 60;
/** reuse a token at most this long, leaving 5 minutes of validity to the last request using it */
export const TOKEN_REUSE_SECONDS = 10 * 60;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type CredentialProvider = () => Promise<AwsCredentials>;

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  /** assume this role (cached until near expiry) before signing */
  roleArn?: string;
  /** sts:ExternalId for that AssumeRole, when the role's trust policy asks for one */
  externalId?: string;
  /**
   * base credentials; default: the SDK default chain (the Lambda's execution role). The STS
   * endpoint for AssumeRole is the SDK's too (AWS_ENDPOINT_URL_STS when set, e.g. locally).
   */
  credentials?: CredentialProvider;
  /** clock for signing and caching (tests) */
  now?: () => Date;
  /** STS client factory (tests); default `new STSClient({ region })` */
  stsClient?: (region: string, credentials?: CredentialProvider) => Pick<STSClient, 'send'>;
  /** session name on AssumeRole (CloudTrail / EKS audit); default "kubelease" */
  sessionName?: string;
}

export interface EksToken {
  token: string;
  /** when EKS stops accepting it (signing time + 15 min, or the credentials' expiry if earlier) */
  expiresAt: Date;
}

/** `sts.<region>.amazonaws.com` (`.amazonaws.com.cn` in China regions). */
export function stsHost(region: string): string {
  if (!isAwsRegion(region)) {
    throw new KubeleaseError('invalid', `eks_region "${region}" is not an AWS region name`);
  }
  return `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** RFC 3986 percent-encoding, as SigV4 canonicalises query strings. */
const rfc3986 = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Presigns GetCallerIdentity for `clusterName` and returns the EKS bearer token. Pure given its inputs. */
export async function presignEksToken(args: {
  clusterName: string;
  region: string;
  credentials: AwsCredentials;
  signingDate: Date;
}): Promise<string> {
  const hostname = stsHost(args.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: args.region,
    sha256: Sha256,
    credentials: {
      accessKeyId: args.credentials.accessKeyId,
      secretAccessKey: args.credentials.secretAccessKey,
      ...(args.credentials.sessionToken ? { sessionToken: args.credentials.sessionToken } : {}),
    },
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, [CLUSTER_ID_HEADER]: args.clusterName },
  });
  const signed = await signer.presign(request, { expiresIn: 60, signingDate: args.signingDate });
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : v == null ? [] : [[k, v] as const]))
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** The STS client for AssumeRole (EksTokenOptions.stsClient's default). */
export function createStsClient(region: string, credentials?: CredentialProvider): STSClient {
  return new STSClient({
    region,
    // AssumeRole must not hang an issuance: fail fast, the SDK retries (3 attempts)
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
    ...(credentials ? { credentials } : {}),
  });
}

/** Default chain credentials (env vars in Lambda), via the STS client's resolved, memoized provider. */
function defaultCredentials(region: string): CredentialProvider {
  const client = new STSClient({ region });
  return async () => {
    const c = await client.config.credentials();
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
      ...(c.expiration ? { expiration: c.expiration } : {}),
    };
  };
}

function awsError(what: string, err: unknown): KubeleaseError {
  if (err instanceof KubeleaseError) return err;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const detail = `${e?.name ?? 'Error'}: ${(e?.message ?? String(err)).slice(0, 200)}`;
  const transient =
    (status !== undefined && status >= 500) ||
    /Throttl|Timeout|Networking/i.test(e?.name ?? '') ||
    /^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)/.test(e?.code ?? '');
  return new KubeleaseError(transient ? 'unavailable' : 'upstream', `${what} failed (${detail})`, { cause: err });
}

/**
 * Token source for one EKS cluster. `get()` returns a cached token while it has more than
 * 5 minutes of validity left, otherwise signs a new one; concurrent callers share one refresh.
 * After the cluster answers 401 to a token, `invalidate(token)` drops it (and the assumed
 * session that signed it) so that the next `get()` signs anew.
 */
export class EksTokenSource {
  private readonly now: () => Date;
  private readonly base: CredentialProvider;
  private readonly sts: Pick<STSClient, 'send'> | undefined;
  private cached?: EksToken & { reuseUntil: number };
  private inflight?: Promise<EksToken>;
  private assumed?: AwsCredentials;
  private assuming?: Promise<AwsCredentials>;

  constructor(private readonly opts: EksTokenOptions) {
    stsHost(opts.region); // validate early
    if (!opts.clusterName) throw new KubeleaseError('invalid', 'eks_cluster_name is required');
    this.now = opts.now ?? (() => new Date());
    this.base = opts.credentials ?? defaultCredentials(opts.region);
    this.sts = opts.roleArn ? (opts.stsClient ?? createStsClient)(opts.region, opts.credentials) : undefined;
  }

  /** the bearer token (what KubeCluster's token source wants) */
  readonly token = async (): Promise<string> => (await this.get()).token;

  async get(): Promise<EksToken> {
    const t = this.now().getTime();
    if (this.cached && t < this.cached.reuseUntil) return this.cached;
    this.inflight ??= this.mint().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /**
   * The cluster refused `rejected` (401): forget it, and the assumed credentials that signed it
   * (their session may be what the cluster no longer accepts). A token other than the cached one
   * (already replaced by a concurrent caller) changes nothing, so many requests failing together
   * cause one refresh.
   */
  invalidate(rejected: string): void {
    if (this.cached?.token !== rejected) return;
    this.cached = undefined;
    this.assumed = undefined;
  }

  private async mint(): Promise<EksToken> {
    const signingDate = this.now();
    const credentials = await this.credentials();
    const token = await presignEksToken({
      clusterName: this.opts.clusterName,
      region: this.opts.region,
      credentials,
      signingDate,
    });
    const t = signingDate.getTime();
    const credExpiry = credentials.expiration?.getTime() ?? Infinity;
    const expiresAt = Math.min(t + TOKEN_VALIDITY_SECONDS * 1000, credExpiry);
    // reuse while at least 5 minutes of validity remain
    const reuseUntil = Math.min(t + TOKEN_REUSE_SECONDS * 1000, expiresAt - 5 * 60 * 1000);
    const minted = { token, expiresAt: new Date(expiresAt) };
    this.cached = { ...minted, reuseUntil };
    return minted;
  }

  private async credentials(): Promise<AwsCredentials> {
    if (!this.opts.roleArn || !this.sts) {
      try {
        return await this.base();
      } catch (err) {
        throw awsError('loading AWS credentials for the EKS token', err);
      }
    }
    const t = this.now().getTime();
    // keep assumed credentials while a freshly signed token can live its full 15 minutes
    if (this.assumed?.expiration && this.assumed.expiration.getTime() - t > TOKEN_VALIDITY_SECONDS * 1000) {
      return this.assumed;
    }
    this.assuming ??= this.assume().finally(() => {
      this.assuming = undefined;
    });
    return this.assuming;
  }

  private async assume(): Promise<AwsCredentials> {
    const roleArn = this.opts.roleArn as string;
    let out;
    try {
      out = await (this.sts as Pick<STSClient, 'send'>).send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: this.opts.sessionName ?? 'kubelease',
          DurationSeconds: 3600,
          ...(this.opts.externalId ? { ExternalId: this.opts.externalId } : {}),
        }),
      );
    } catch (err) {
      throw awsError(`assuming role_arn ${roleArn} for the EKS token`, err);
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw new KubeleaseError('upstream', `AssumeRole ${roleArn} returned no credentials`);
    }
    this.assumed = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
    return this.assumed;
  }
}
