/**
 * The bed's EKS authenticator: the kube-apiserver's token webhook (TokenReview v1), answering as
 * aws-iam-authenticator's `/authenticate` endpoint does — POST only, a TokenReview body, 403 with
 * `authenticated: false` for every refusal, 200 with username, uid
 * `aws-iam-authenticator:<account>:<userid>`, groups and the identity as `extra` on success.
 *
 * Between Verify's format rules (./verify-token.ts) and the mapping (./mapper.ts) it makes the
 * GetCallerIdentity call Verify makes — GET of the token's URL with `x-k8s-aws-id: <cluster>` and
 * `accept: application/json` — against the emulated STS (./sts.ts), in process.
 */
import type { EmulatedSts } from './sts.js';
import { checkToken, CLUSTER_ID_HEADER, FormatError, type VerifierOptions } from './verify-token.js';
import { identityFrom, MappingError, type AccessEntries } from './mapper.js';

const TOKEN_REVIEW_API_VERSION = 'authentication.k8s.io/v1';

export interface AuthenticatorConfig extends VerifierOptions {
  /** the cluster id tokens must be signed for (the EKS cluster name) */
  clusterId: string;
  sts: EmulatedSts;
  accessEntries: AccessEntries;
  now?: () => Date;
  /**
   * Fault injection for tests, not an EKS feature: refuse tokens whose X-Amz-Date is before the
   * instant this returns (undefined: none), like tokens the cluster stopped accepting early.
   */
  rejectSignedBefore?: () => Date | undefined;
}

interface WebhookReply {
  status: number;
  body: string;
  /** why a token was refused or who it was (for the bed's log; never the token) */
  decision: string;
}

class StsError extends Error {
  constructor(message: string) {
    super(`sts getCallerIdentity failed: ${message}`);
  }
}

const deny = (decision: string, status = 403): WebhookReply => ({
  status,
  decision,
  body: JSON.stringify({ apiVersion: TOKEN_REVIEW_API_VERSION, kind: 'TokenReview', status: { authenticated: false } }),
});

/** Verify + mapping for one token; throws FormatError, StsError or MappingError. */
export async function authenticate(token: string, c: AuthenticatorConfig) {
  const now = c.now?.() ?? new Date();
  const checked = checkToken(token, { partition: c.partition, region: c.region, now });
  const cutoff = c.rejectSignedBefore?.();
  if (cutoff && checked.signedAt.getTime() < cutoff.getTime()) {
    throw new StsError(`error from AWS (expected 200, got 403): the bed refuses tokens signed before ${cutoff.toISOString()}`);
  }
  const reply = await c.sts.handle({
    method: 'GET',
    host: checked.host,
    path: '/',
    rawQuery: checked.rawQuery,
    headers: {
      [CLUSTER_ID_HEADER]: c.clusterId,
      accept: 'application/json',
      ...(checked.basicAuth !== undefined ? { authorization: `Basic ${checked.basicAuth}` } : {}),
    },
    body: new Uint8Array(),
  });
  if (reply.status !== 200) throw new StsError(`error from AWS (expected 200, got ${reply.status}). Body: ${reply.body}`);
  const result = (JSON.parse(reply.body) as { GetCallerIdentityResponse: { GetCallerIdentityResult: { Account: string; Arn: string; UserId: string } } })
    .GetCallerIdentityResponse.GetCallerIdentityResult;
  const identity = identityFrom(result, checked.accessKeyId);
  return { identity, ...c.accessEntries.map(identity) };
}

/** The `/authenticate` endpoint, transport-free: method and raw body in, status and JSON out. */
export async function reviewToken(method: string, rawBody: string, c: AuthenticatorConfig): Promise<WebhookReply> {
  if (method !== 'POST') return { status: 405, body: 'expected POST', decision: `unexpected request method ${method}` };
  let token: unknown;
  try {
    token = (JSON.parse(rawBody) as { spec?: { token?: unknown } }).spec?.token;
  } catch {
    return { status: 400, body: 'expected a request body to be a TokenReview', decision: 'could not parse request body' };
  }
  try {
    const { identity, username, groups } = await authenticate(typeof token === 'string' ? token : '', c);
    const review = {
      apiVersion: TOKEN_REVIEW_API_VERSION,
      kind: 'TokenReview',
      status: {
        authenticated: true,
        user: {
          username,
          uid: `aws-iam-authenticator:${identity.accountId}:${identity.userId}`,
          groups,
          extra: {
            arn: [identity.arn],
            canonicalArn: [identity.canonicalArn],
            sessionName: [identity.sessionName],
            accessKeyId: [identity.accessKeyId],
            principalId: [identity.userId],
          },
        },
      },
    };
    return { status: 200, body: JSON.stringify(review), decision: `access granted: ${identity.arn} → ${username} [${groups.join(',')}]` };
  } catch (e) {
    if (e instanceof FormatError || e instanceof StsError || e instanceof MappingError) return deny(`access denied: ${e.message}`);
    throw e;
  }
}
