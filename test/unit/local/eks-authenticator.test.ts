/**
 * The bed's EKS authenticator, rule by rule against aws-iam-authenticator's pkg/token Verify, so
 * that the emulation cannot silently loosen. Each negative case is a token that is *correctly
 * signed* and breaks exactly one rule; the same token with that one thing put right is accepted.
 */
import { presignEksToken } from '../../../lib/adapters/eks/token.js';
import { AccessEntries, canonicalize, identityFrom, MappingError } from '../../../lib/local/testbed/eks/mapper.js';
import { EmulatedSts } from '../../../lib/local/testbed/eks/sts.js';
import { checkToken, FormatError, verifyHost } from '../../../lib/local/testbed/eks/verify-token.js';
import { authenticate, reviewToken, type AuthenticatorConfig } from '../../../lib/local/testbed/eks/webhook.js';
import { asToken, eksToken, presignedUrl, urlOf, withQueryValue, type EksUrlOptions } from '../../support/eks-tokens.js';

const ACCOUNT = '111122223333';
const CLUSTER = 'kubelease-bed';
const REGION = 'eu-west-1';
const NOW = new Date('2025-03-04T05:06:07Z');
const BROKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/kubelease-broker`;
const ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/eks-access`;
const UNMAPPED_ROLE = `arn:aws:iam::${ACCOUNT}:role/unmapped`;

let clock = NOW;
const sts = new EmulatedSts(
  ACCOUNT,
  [{ arn: BROKER_ROLE }, { arn: ACCESS_ROLE, trustedRoleArns: [BROKER_ROLE], externalId: 'ext-123' }, { arn: UNMAPPED_ROLE }],
  () => clock,
);
const broker = sts.issueSession(BROKER_ROLE, 'kubelease-local');
const config: AuthenticatorConfig = {
  clusterId: CLUSTER,
  partition: 'aws',
  region: REGION,
  sts,
  accessEntries: new AccessEntries([
    { principalArn: BROKER_ROLE, groups: ['kubelease-broker'] },
    { principalArn: ACCESS_ROLE, username: 'broker:{{SessionName}}:{{AccountID}}', groups: ['kubelease-broker', 'g-{{SessionNameRaw}}'] },
  ]),
  now: () => clock,
};
const opts = { partition: 'aws', region: REGION, now: NOW };

beforeEach(() => {
  clock = NOW;
});

const sign = (o: Partial<EksUrlOptions> = {}) => eksToken({ credentials: broker, clusterId: CLUSTER, signedAt: NOW, ...o });
/** checkToken's error message for a token, or 'ok' */
const formatVerdict = (token: string, now = NOW): string => {
  try {
    checkToken(token, { ...opts, now });
    return 'ok';
  } catch (e) {
    if (e instanceof FormatError) return e.message.replace('input token was not properly formatted: ', '');
    throw e;
  }
};
const verdict = async (token: string): Promise<string> => {
  try {
    const r = await authenticate(token, config);
    return `ok ${r.username}`;
  } catch (e) {
    return (e as Error).message;
  }
};

describe('Verify format rules (aws-iam-authenticator pkg/token)', () => {
  test('the broker’s own token (lib/adapters/eks/token.ts) passes every rule and STS', async () => {
    const token = await presignEksToken({ clusterName: CLUSTER, region: REGION, credentials: broker, signingDate: NOW });
    expect(formatVerdict(token)).toBe('ok');
    expect(await verdict(token)).toBe(`ok arn:aws:sts::${ACCOUNT}:assumed-role/kubelease-broker/kubelease-local`);
  });

  test('size: more than 4096 bytes is refused before anything else', async () => {
    const token = await sign();
    const pad = (n: number) => `${token}${'A'.repeat(n - token.length)}`;
    expect(formatVerdict(pad(4097))).toBe('token is too large');
    expect(formatVerdict(pad(4096))).not.toBe('token is too large');
    // bytes, not characters
    expect(formatVerdict(`${token}${'é'.repeat((4097 - token.length) / 2 + 1)}`)).toBe('token is too large');
  });

  test('prefix: k8s-aws-v1.', async () => {
    const token = await sign();
    expect(formatVerdict(token.replace('k8s-aws-v1.', 'k8s-aws-v2.'))).toBe('token is missing expected "k8s-aws-v1." prefix');
    expect(formatVerdict(token.slice('k8s-aws-v1.'.length))).toMatch(/missing expected/);
  });

  test('encoding: raw base64url only (no padding, no +/)', async () => {
    const url = await presignedUrl({ credentials: broker, clusterId: CLUSTER, signedAt: NOW, query: { X: '1' } });
    const raw = Buffer.from(url).toString('base64url');
    expect(formatVerdict(`k8s-aws-v1.${raw.slice(0, 8)}+${raw.slice(9)}`)).toBe('illegal base64 data at input byte 8');
    expect(formatVerdict(`k8s-aws-v1.${raw.slice(0, 8)}/${raw.slice(9)}`)).toBe('illegal base64 data at input byte 8');
    expect(formatVerdict(`k8s-aws-v1.${raw}==`)).toBe(`illegal base64 data at input byte ${raw.length}`);
    expect(formatVerdict('k8s-aws-v1.AAAAA')).toBe('illegal base64 data at input byte 4');
    expect(formatVerdict(`k8s-aws-v1.${raw}`)).toBe('non-whitelisted query parameter "X"'); // decoded fine
  });

  test('scheme: https', async () => {
    const url = await presignedUrl({ credentials: broker, clusterId: CLUSTER, signedAt: NOW });
    expect(formatVerdict(asToken(url.replace(/^https:/, 'http:')))).toBe('unexpected scheme "http" in pre-signed URL');
    expect(formatVerdict(asToken(url.replace(/^https:/, 'HTTPS:')))).toBe('ok'); // Go lower-cases the scheme
  });

  test('host: the partition’s STS endpoints only', () => {
    const aws = { partition: 'aws', region: REGION };
    for (const ok of ['sts.amazonaws.com', 'sts.eu-west-1.amazonaws.com', 'sts.us-east-1.amazonaws.com', 'sts-fips.us-east-1.amazonaws.com', 'sts.eu-west-1.api.aws', 'sts-fips.us-east-1.api.aws']) {
      expect([ok, (() => (verifyHost(ok, aws), 'ok'))()]).toEqual([ok, 'ok']);
    }
    const refuse = (host: string, o = aws) => {
      try {
        verifyHost(host, o);
        return 'ok';
      } catch (e) {
        return (e as Error).message.replace('input token was not properly formatted: ', '');
      }
    };
    expect(refuse('sts.eu-west-1.amazonaws.com:443')).toBe('unexpected hostname "sts.eu-west-1.amazonaws.com:443" in pre-signed URL');
    expect(refuse('sts.eu-west-1.amazonaws.com.evil.example')).toBe('unexpected hostname "sts.eu-west-1.amazonaws.com.evil.example" in pre-signed URL');
    expect(refuse('evil.example')).toBe('could not parse region for pre-signed URL evil.example, invalid host format: evil.example');
    expect(refuse('ec2.eu-west-1.amazonaws.com')).toBe('unexpected hostname "ec2.eu-west-1.amazonaws.com" in pre-signed URL');
    expect(refuse('STS.EU-WEST-1.AMAZONAWS.COM')).toBe('unexpected hostname "STS.EU-WEST-1.AMAZONAWS.COM" in pre-signed URL');
    expect(refuse('sts.eu_west_1.amazonaws.com')).toBe('invalid region identifier format provided: eu_west_1');
    expect(refuse('')).toBe('could not parse region for pre-signed URL , host is empty');
    expect(refuse('sts.cn-north-1.amazonaws.com.cn')).toBe('partition {aws} does not support hostname sts.cn-north-1.amazonaws.com.cn');
    const cn = { partition: 'aws-cn', region: 'cn-north-1' };
    expect(refuse('sts.cn-north-1.amazonaws.com.cn', cn)).toBe('ok');
    expect(refuse('sts.amazonaws.com', cn)).toBe('global endpoint unsupported in partition aws-cn');
    expect(refuse('sts.eu-west-1.amazonaws.com', cn)).toBe('partition {aws-cn} does not support hostname sts.eu-west-1.amazonaws.com');
    expect(refuse('sts.eu-west-1.amazonaws.com', { partition: 'aws-mars', region: 'eu-west-1' })).toBe('partition aws-mars not valid');
  });

  test('host: checked on the token (signed for another host, STS itself would accept it)', async () => {
    const host = 'sts.eu-west-1.amazonaws.com.evil.example';
    const token = await sign({ host });
    expect(formatVerdict(token)).toBe(`unexpected hostname "${host}" in pre-signed URL`);
    const sigOk = await sts.handle({ method: 'GET', host, path: '/', rawQuery: urlOf(token).split('?')[1] ?? '', headers: { 'x-k8s-aws-id': CLUSTER }, body: new Uint8Array() });
    expect(sigOk.status).toBe(200);
  });

  test('host: userinfo is not the host, and Go sends it to STS as Basic auth, which STS refuses', async () => {
    const token = asToken(urlOf(await sign()).replace('https://', 'https://evil.example@'));
    expect(formatVerdict(token)).toBe('ok');
    expect(await verdict(token)).toMatch(/^sts getCallerIdentity failed: error from AWS \(expected 200, got 403\)/);
    expect(formatVerdict(asToken(urlOf(await sign()).replace('https://', 'https://sts.eu-west-1.amazonaws.com@evil.example/#')))).toMatch(/could not parse region|unexpected hostname/);
  });

  test('path: exactly /', async () => {
    const url = await presignedUrl({ credentials: broker, clusterId: CLUSTER, signedAt: NOW });
    expect(formatVerdict(asToken(url.replace('.com/?', '.com/x?')))).toBe('unexpected path in pre-signed URL');
    expect(formatVerdict(asToken(url.replace('.com/?', '.com?')))).toBe('unexpected path in pre-signed URL');
    expect(formatVerdict(asToken(url.replace('.com/?', '.com//?')))).toBe('unexpected path in pre-signed URL');
  });

  test('query: malformed escapes and ; separators are refused', async () => {
    const url = await presignedUrl({ credentials: broker, clusterId: CLUSTER, signedAt: NOW });
    expect(formatVerdict(asToken(`${url}&X-Amz-Date=%zz`))).toBe('malformed query parameter');
    expect(formatVerdict(asToken(url.replace('&Version=', ';Version=')))).toBe('malformed query parameter');
  });

  test('query: a parameter repeated in another case is refused', async () => {
    const token = await sign({ query: { action: 'GetCallerIdentity' } });
    expect(formatVerdict(token)).toMatch(/^duplicate query parameter found: "(action|Action)"$/);
  });

  test('query: only allow-listed parameters', async () => {
    const token = await sign({ query: { Foo: 'bar' } });
    expect(formatVerdict(token)).toBe('non-whitelisted query parameter "Foo"');
    expect(await verdict(token)).toMatch(/non-whitelisted/);
  });

  test('query: each parameter once', async () => {
    const url = await presignedUrl({ credentials: broker, clusterId: CLUSTER, signedAt: NOW });
    expect(formatVerdict(asToken(`${url}&Version=2011-06-15`))).toBe('query parameter with multiple values not supported');
  });

  test('Action=GetCallerIdentity', async () => {
    expect(formatVerdict(await sign({ query: { Action: 'AssumeRole' } }))).toBe('unexpected action parameter in pre-signed URL');
    expect(formatVerdict(await sign({ query: { Action: 'getcalleridentity' } }))).toBe('unexpected action parameter in pre-signed URL');
  });

  test('x-k8s-aws-id must be a signed header', async () => {
    const token = await sign({ signClusterId: false });
    expect(new URL(urlOf(token)).searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(formatVerdict(token)).toBe('client did not sign the x-k8s-aws-id header in the pre-signed URL');
  });

  test('X-Amz-Expires: an integer 0..900', async () => {
    for (const [expiresIn, want] of [
      [0, 'ok'],
      [900, 'ok'],
      [901, 'invalid X-Amz-Expires parameter in pre-signed URL: 901'],
    ] as const) {
      expect([expiresIn, formatVerdict(await sign({ expiresIn }))]).toEqual([expiresIn, want]);
    }
    const token = await sign();
    expect(formatVerdict(withQueryValue(token, 'X-Amz-Expires', '-1'))).toBe('invalid X-Amz-Expires parameter in pre-signed URL: -1');
    expect(formatVerdict(withQueryValue(token, 'X-Amz-Expires', '6e1'))).toBe('invalid X-Amz-Expires parameter in pre-signed URL: 0');
    expect(formatVerdict(withQueryValue(token, 'X-Amz-Expires', '%2B60'))).toBe('ok'); // strconv.Atoi takes a sign
    expect(formatVerdict(asToken(urlOf(token).replace(/&X-Amz-Expires=\d+/, '')))).toBe('invalid X-Amz-Expires parameter in pre-signed URL: 0');
  });

  test('X-Amz-Date must be present', async () => {
    const token = await sign();
    expect(formatVerdict(asToken(urlOf(token).replace(/&X-Amz-Date=\w+/, '')))).toBe('X-Amz-Date parameter must be present in pre-signed URL');
    expect(formatVerdict(withQueryValue(token, 'X-Amz-Date', ''))).toBe('X-Amz-Date parameter must be present in pre-signed URL');
  });

  test('X-Amz-Date must parse as 20060102T150405Z', async () => {
    const token = await sign();
    for (const bad of ['20250230T000000Z', '20250304T250000Z', '2025-03-04T05:06:07Z', '20250304T050607', '20250304T050607Zx']) {
      expect([bad, formatVerdict(withQueryValue(token, 'X-Amz-Date', encodeURIComponent(bad)))]).toEqual([bad, `error parsing X-Amz-Date parameter ${bad} into format 20060102T150405Z`]);
    }
  });

  test('X-Amz-Date: valid up to 15 minutes after, whatever X-Amz-Expires says', async () => {
    const token = await sign({ expiresIn: 60 });
    expect(formatVerdict(token, new Date(NOW.getTime() + 15 * 60_000))).toBe('ok');
    expect(formatVerdict(token, new Date(NOW.getTime() + 15 * 60_000 + 1000))).toBe('X-Amz-Date parameter is expired (15 minute expiration) 2025-03-04T05:06:07.000Z');
    clock = new Date(NOW.getTime() + 14 * 60_000); // STS agrees: 14 minutes on, with X-Amz-Expires=60
    expect(await verdict(token)).toMatch(/^ok /);
  });
});

describe('STS GetCallerIdentity (the bed plays STS)', () => {
  test('the signature covers the cluster id: a token for another cluster fails at STS', async () => {
    const token = await sign({ clusterId: 'other-cluster' });
    expect(formatVerdict(token)).toBe('ok');
    expect(await verdict(token)).toMatch(/^sts getCallerIdentity failed: error from AWS \(expected 200, got 403\).*SignatureDoesNotMatch/);
  });

  test('any changed byte of the signature or of a signed query value fails', async () => {
    const token = await sign();
    const sig = new URL(urlOf(token)).searchParams.get('X-Amz-Signature') as string;
    const flipped = `${sig.slice(0, 10)}${sig[10] === '0' ? '1' : '0'}${sig.slice(11)}`;
    expect(await verdict(withQueryValue(token, 'X-Amz-Signature', flipped))).toMatch(/SignatureDoesNotMatch/);
    expect(await verdict(withQueryValue(token, 'Version', '2011-06-16'))).toMatch(/SignatureDoesNotMatch/);
    expect(await verdict(withQueryValue(token, 'X-Amz-Date', '20250304T050606Z'))).toMatch(/SignatureDoesNotMatch/);
  });

  test('unknown keys and wrong session tokens are InvalidClientTokenId', async () => {
    expect(await verdict(await sign({ credentials: { ...broker, accessKeyId: 'ASIAUNKNOWN000000000' } }))).toMatch(/InvalidClientTokenId/);
    expect(await verdict(await sign({ credentials: { ...broker, sessionToken: 'forged' } }))).toMatch(/InvalidClientTokenId/);
    expect(await verdict(await sign({ credentials: { accessKeyId: broker.accessKeyId, secretAccessKey: broker.secretAccessKey } }))).toMatch(/InvalidClientTokenId/);
  });

  test('the credential scope must name the host’s region', async () => {
    const token = await sign({ region: 'us-east-1', host: 'sts.eu-west-1.amazonaws.com' });
    expect(formatVerdict(token)).toBe('ok');
    expect(await verdict(token)).toMatch(/Credential should be scoped to a valid region, not 'us-east-1'/);
    expect(await verdict(await sign({ region: 'us-east-1', host: 'sts.amazonaws.com' }))).toMatch(/^ok /);
  });

  test('a token from the future (beyond 5 minutes of skew) is not yet valid', async () => {
    const token = await sign({ signedAt: new Date(NOW.getTime() + 6 * 60_000) });
    expect(formatVerdict(token)).toBe('ok');
    expect(await verdict(token)).toMatch(/Signature not yet current/);
  });

  test('expired session credentials are refused (ExpiredToken)', async () => {
    const shortLived = sts.issueSession(ACCESS_ROLE, 'short', 900);
    const token = await sign({ credentials: shortLived });
    expect(await verdict(token)).toMatch(/^ok broker:short/);
    clock = new Date(NOW.getTime() + 901_000);
    expect(await verdict(await sign({ credentials: shortLived, signedAt: clock }))).toMatch(/ExpiredToken/);
  });
});

describe('mapping (access entries / aws-auth mapRoles)', () => {
  test('arn.Canonicalize', () => {
    expect(canonicalize(`arn:aws:sts::${ACCOUNT}:assumed-role/path-less/session`)).toEqual({ type: 'assumed-role', arn: `arn:aws:iam::${ACCOUNT}:role/path-less` });
    expect(canonicalize(`arn:aws:iam::${ACCOUNT}:user/alice`)).toEqual({ type: 'user', arn: `arn:aws:iam::${ACCOUNT}:user/alice` });
    expect(() => canonicalize(`arn:aws:sts::${ACCOUNT}:assumed-role/no-session`)).toThrow(MappingError);
    expect(() => canonicalize(`arn:aws:s3:::bucket`)).toThrow(/not a valid service for identities/);
    expect(() => canonicalize(`arn:aws-mars:iam::${ACCOUNT}:role/x`)).toThrow(/partition aws-mars/);
  });

  test('default access-entry username for a role; aws-auth templates ({{SessionName}} turns @ into -)', () => {
    const entries = config.accessEntries;
    const session = identityFrom({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/kubelease-broker/fn@local`, UserId: 'AROAEXAMPLE:fn@local' }, 'ASIAX');
    expect(entries.map(session)).toEqual({ username: `arn:aws:sts::${ACCOUNT}:assumed-role/kubelease-broker/fn-local`, groups: ['kubelease-broker'] });
    const other = identityFrom({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/EKS-Access/a@b`, UserId: 'AROAEXAMPLE:a@b' }, 'ASIAY');
    expect(entries.map(other)).toEqual({ username: `broker:a-b:${ACCOUNT}`, groups: ['kubelease-broker', 'g-a@b'] }); // ARNs match case-insensitively
  });

  test('an identity STS vouches for but nobody mapped is refused', async () => {
    const unmapped = sts.issueSession(UNMAPPED_ROLE, 'kubelease');
    expect(await verdict(await sign({ credentials: unmapped }))).toBe(`ARN is not mapped: ${UNMAPPED_ROLE}`);
  });

  test('a malformed UserId from STS is refused', () => {
    expect(() => identityFrom({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/r/s`, UserId: 'AROA:a:b' }, 'ASIA')).toThrow('malformed UserID "AROA:a:b"');
  });
});

describe('the /authenticate endpoint (TokenReview)', () => {
  const review = (token: string) => JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['https://kubernetes.default.svc'] } });

  test('success: username, uid, groups and the identity as extra', async () => {
    const res = await reviewToken('POST', review(await sign()), config);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      status: {
        authenticated: true,
        user: {
          username: `arn:aws:sts::${ACCOUNT}:assumed-role/kubelease-broker/kubelease-local`,
          uid: `aws-iam-authenticator:${ACCOUNT}:${broker.userId.split(':')[0]}`,
          groups: ['kubelease-broker'],
          extra: {
            arn: [broker.arn],
            canonicalArn: [BROKER_ROLE],
            sessionName: ['kubelease-local'],
            accessKeyId: [broker.accessKeyId],
            principalId: [broker.userId.split(':')[0]],
          },
        },
      },
    });
    expect(res.decision).not.toContain(broker.secretAccessKey);
  });

  test('refusals: 403 with authenticated false, never the token in the log line', async () => {
    const token = await sign({ clusterId: 'other' });
    const res = await reviewToken('POST', review(token), config);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', status: { authenticated: false } });
    expect(res.decision).toMatch(/^access denied: sts getCallerIdentity failed/);
    expect(res.decision).not.toContain(token.slice(20, 60));
    expect((await reviewToken('POST', review(''), config)).status).toBe(403);
  });

  test('POST only, and the body must be JSON', async () => {
    expect(await reviewToken('GET', '', config)).toMatchObject({ status: 405, body: 'expected POST' });
    expect(await reviewToken('POST', '{nope', config)).toMatchObject({ status: 400, body: 'expected a request body to be a TokenReview' });
  });
});
