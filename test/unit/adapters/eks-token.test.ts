import { createHash, createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { EksTokenSource, presignEksToken, stsHost, TOKEN_PREFIX, type AwsCredentials } from '../../../lib/adapters/eks/token.js';
import { KubeleaseError } from '../../../lib/domain/errors.js';

const CREDS: AwsCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'FwoGZXIvYXdzEBYaDH+session/token==',
};
const REGION = 'eu-west-1';
const CLUSTER = 'prod-cluster';
const AT = new Date('2024-01-02T03:04:05.678Z');

function decode(token: string): URL {
  expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
  const b64 = token.slice(TOKEN_PREFIX.length);
  expect(b64).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(b64, 'base64url').toString('utf8'));
}

// --- an independent SigV4 (AWS "Create a signed request", query-string variant), node:crypto only ---
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

function expectedSignature(url: URL, expect: { region: string; clusterName: string; secret: string; signedHeaders: string[] }): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headerValues: Record<string, string> = { host: `sts.${expect.region}.amazonaws.com`, 'x-k8s-aws-id': expect.clusterName };
  const canonicalHeaders = expect.signedHeaders.map((h) => `${h}:${headerValues[h]}\n`).join('');
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, expect.signedHeaders.join(';'), sha256hex('')].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date') ?? '';
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${expect.region}/sts/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${expect.secret}`, day), expect.region), 'sts'), 'aws4_request');
  return createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
}

describe('presignEksToken', () => {
  it('is a presigned STS GetCallerIdentity URL, as aws eks get-token builds it', async () => {
    const url = decode(await presignEksToken({ clusterName: CLUSTER, region: REGION, credentials: CREDS, signingDate: AT }));
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-Date')).toBe('20240102T030405Z');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240102/eu-west-1/sts/aws4_request');
    expect(q.get('X-Amz-Security-Token')).toBe(CREDS.sessionToken);
    expect(q.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    // the cluster id travels as a signed header, not in the query
    expect(q.get('x-k8s-aws-id')).toBeNull();
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('carries a signature that an independent SigV4 computation agrees with', async () => {
    const url = decode(await presignEksToken({ clusterName: CLUSTER, region: REGION, credentials: CREDS, signingDate: AT }));
    const actual = url.searchParams.get('X-Amz-Signature');
    const right = { region: REGION, clusterName: CLUSTER, secret: CREDS.secretAccessKey, signedHeaders: ['host', 'x-k8s-aws-id'] };
    expect(actual).toBe(expectedSignature(url, right));
    // the check is discriminating: any wrong input gives a different signature
    expect(actual).not.toBe(expectedSignature(url, { ...right, region: 'us-east-1' }));
    expect(actual).not.toBe(expectedSignature(url, { ...right, clusterName: 'other-cluster' }));
    expect(actual).not.toBe(expectedSignature(url, { ...right, signedHeaders: ['host'] }));
    expect(actual).not.toBe(expectedSignature(url, { ...right, secret: 'x' }));
  });

  it('signs for the region it is given (a token for another region does not verify)', async () => {
    const other = decode(await presignEksToken({ clusterName: CLUSTER, region: 'us-east-1', credentials: CREDS, signingDate: AT }));
    expect(other.host).toBe('sts.us-east-1.amazonaws.com');
    expect(other.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240102/us-east-1/sts/aws4_request');
    const sig = other.searchParams.get('X-Amz-Signature');
    expect(sig).toBe(expectedSignature(other, { region: 'us-east-1', clusterName: CLUSTER, secret: CREDS.secretAccessKey, signedHeaders: ['host', 'x-k8s-aws-id'] }));
    expect(sig).not.toBe(expectedSignature(other, { region: REGION, clusterName: CLUSTER, secret: CREDS.secretAccessKey, signedHeaders: ['host', 'x-k8s-aws-id'] }));
  });

  it('omits the security token for long-term credentials and is deterministic', async () => {
    const creds = { accessKeyId: CREDS.accessKeyId, secretAccessKey: CREDS.secretAccessKey };
    const a = await presignEksToken({ clusterName: CLUSTER, region: REGION, credentials: creds, signingDate: AT });
    const b = await presignEksToken({ clusterName: CLUSTER, region: REGION, credentials: creds, signingDate: AT });
    expect(a).toBe(b);
    const url = decode(a);
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(false);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, { region: REGION, clusterName: CLUSTER, secret: creds.secretAccessKey, signedHeaders: ['host', 'x-k8s-aws-id'] }),
    );
  });

  it('uses the China partition endpoint and rejects non-region input', () => {
    expect(stsHost('cn-north-1')).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(stsHost('us-gov-west-1')).toBe('sts.us-gov-west-1.amazonaws.com');
    expect(() => stsHost('evil.example.com/')).toThrow(KubeleaseError);
  });
});

describe('EksTokenSource', () => {
  const clock = () => {
    let t = AT.getTime();
    return { now: () => new Date(t), advance: (s: number) => (t += s * 1000) };
  };

  it('reuses a token for up to 10 minutes, then signs a new one', async () => {
    const c = clock();
    let loads = 0;
    const src = new EksTokenSource({ clusterName: CLUSTER, region: REGION, now: c.now, credentials: async () => (loads++, CREDS) });
    const first = await src.get();
    expect(first.expiresAt.toISOString()).toBe(new Date(AT.getTime() + 15 * 60_000).toISOString());
    c.advance(9 * 60);
    expect((await src.get()).token).toBe(first.token);
    c.advance(61);
    const second = await src.get();
    expect(second.token).not.toBe(first.token);
    expect(decode(second.token).searchParams.get('X-Amz-Date')).toBe('20240102T031406Z');
    expect(loads).toBe(2);
    expect(await src.token()).toBe(second.token);
  });

  it('shares one refresh between concurrent callers', async () => {
    let loads = 0;
    const src = new EksTokenSource({
      clusterName: CLUSTER,
      region: REGION,
      now: () => AT,
      credentials: async () => {
        loads++;
        await sleep(10);
        return CREDS;
      },
    });
    const tokens = await Promise.all([src.token(), src.token(), src.token()]);
    expect(new Set(tokens).size).toBe(1);
    expect(loads).toBe(1);
  });

  it('never hands out a token that outlives its credentials by caching past their expiry', async () => {
    const c = clock();
    const expiring = { ...CREDS, expiration: new Date(AT.getTime() + 8 * 60_000) };
    let loads = 0;
    const src = new EksTokenSource({ clusterName: CLUSTER, region: REGION, now: c.now, credentials: async () => (loads++, expiring) });
    const t = await src.get();
    expect(t.expiresAt.toISOString()).toBe(expiring.expiration.toISOString());
    c.advance(4 * 60); // 4 min left on the credentials: below the 5-minute margin
    await src.get();
    expect(loads).toBe(2);
  });

  it('assumes role_arn, signs with the assumed credentials and re-assumes near their expiry', async () => {
    const c = clock();
    const sent: AssumeRoleCommand[] = [];
    let n = 0;
    const sts = {
      send: async (cmd: AssumeRoleCommand) => {
        sent.push(cmd);
        n++;
        return {
          Credentials: {
            AccessKeyId: `ASIAASSUMED${n}`,
            SecretAccessKey: `secret${n}`,
            SessionToken: `session${n}`,
            Expiration: new Date(c.now().getTime() + 3600_000),
          },
          $metadata: {},
        };
      },
    };
    const src = new EksTokenSource({
      clusterName: CLUSTER,
      region: REGION,
      roleArn: 'arn:aws:iam::123456789012:role/eks-broker',
      now: c.now,
      credentials: async () => CREDS,
      stsClient: () => sts as never,
    });
    const url = decode(await src.token());
    expect(sent).toHaveLength(1);
    expect(sent[0]?.input).toMatchObject({ RoleArn: 'arn:aws:iam::123456789012:role/eks-broker', RoleSessionName: 'kubelease' });
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAASSUMED1\//);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session1');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, { region: REGION, clusterName: CLUSTER, secret: 'secret1', signedHeaders: ['host', 'x-k8s-aws-id'] }),
    );
    c.advance(11 * 60); // token refresh, assumed credentials still have 49 min
    await src.token();
    expect(sent).toHaveLength(1);
    c.advance(35 * 60); // 14 min left on the session: a new token could not live 15 min → re-assume
    const again = decode(await src.token());
    expect(sent).toHaveLength(2);
    expect(again.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAASSUMED2\//);
  });

  it('invalidate(token) after a 401: the next token is signed anew (a new session with role_arn); a stale token changes nothing', async () => {
    const c = clock();
    const sent: AssumeRoleCommand[] = [];
    const sts = {
      send: async (cmd: AssumeRoleCommand) => {
        sent.push(cmd);
        const n = sent.length;
        return {
          Credentials: { AccessKeyId: `ASIAASSUMED${n}`, SecretAccessKey: `secret${n}`, SessionToken: `session${n}`, Expiration: new Date(c.now().getTime() + 3600_000) },
          $metadata: {},
        };
      },
    };
    const src = new EksTokenSource({
      clusterName: CLUSTER,
      region: REGION,
      roleArn: 'arn:aws:iam::123456789012:role/eks-broker',
      externalId: 'tenant-42',
      now: c.now,
      credentials: async () => CREDS,
      stsClient: () => sts as never,
    });
    const first = await src.token();
    expect(sent.map((x) => x.input)).toEqual([{ RoleArn: 'arn:aws:iam::123456789012:role/eks-broker', RoleSessionName: 'kubelease', DurationSeconds: 3600, ExternalId: 'tenant-42' }]);
    expect(await src.token()).toBe(first); // cached
    src.invalidate('k8s-aws-v1.some-older-token');
    expect(await src.token()).toBe(first);
    src.invalidate(first);
    const second = await src.token();
    expect(second).not.toBe(first);
    expect(decode(second).searchParams.get('X-Amz-Credential')).toMatch(/^ASIAASSUMED2\//);
    expect(sent).toHaveLength(2);
    src.invalidate(first); // a second request that failed with the old token: no further refresh
    expect(await src.token()).toBe(second);
    expect(sent).toHaveLength(2);
  });

  it('maps AWS failures to KubeleaseErrors without leaking credentials', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const src = new EksTokenSource({
      clusterName: CLUSTER,
      region: REGION,
      roleArn: 'arn:aws:iam::123456789012:role/x',
      now: () => AT,
      credentials: async () => CREDS,
      stsClient: () => ({ send: async () => Promise.reject(denied) }) as never,
    });
    const err = await src.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeleaseError);
    expect((err as KubeleaseError).kind).toBe('upstream');
    expect((err as KubeleaseError).message).toContain('arn:aws:iam::123456789012:role/x');
    expect((err as KubeleaseError).message).not.toContain(CREDS.secretAccessKey);

    const throttled = new EksTokenSource({
      clusterName: CLUSTER,
      region: REGION,
      now: () => AT,
      credentials: async () => Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })),
    });
    await expect(throttled.get()).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
