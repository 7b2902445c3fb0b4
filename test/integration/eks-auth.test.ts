/**
 * EKS targets end to end on the bed: the broker reaches the real kube-apiserver with a presigned
 * STS GetCallerIdentity token, which the apiserver hands to the bed's aws-iam-authenticator
 * stand-in (TokenReview webhook), which checks it as EKS does and asks the bed's STS.
 *
 * The broker is configured as in Lambda, from the environment only: the bed's session of the
 * broker's execution role in AWS_ACCESS_KEY_ID & co., AWS_ENDPOINT_URL_STS at the bed's STS.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import * as k8s from '@kubernetes/client-node';
import { rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EksTokenSource, presignEksToken } from '../../lib/adapters/eks/token.js';
import { ClusterFactory } from '../../lib/adapters/kubernetes/factory.js';
import { KubeleaseError } from '../../lib/domain/errors.js';
import { issueCreds, revokeLease } from '../../lib/engine/index.js';
import { adminKubeConfig, eventually, loadBed, newNamespace, statusOf, tokenKubeConfig } from '../support/bed.js';
import { eksToken, urlOf, withQueryValue, type EksUrlOptions } from '../support/eks-tokens.js';
import { bedEngine, CI, type BedEngine } from '../support/engine.js';
import { objectsOfLease, whoIs } from '../support/kube-probes.js';

const bed = loadBed();
const { eks } = bed;
process.env.AWS_ACCESS_KEY_ID = eks.credentials.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = eks.credentials.secretAccessKey;
process.env.AWS_SESSION_TOKEN = eks.credentials.sessionToken;
process.env.AWS_ENDPOINT_URL_STS = eks.stsEndpoint;
process.env.AWS_REGION = 'us-east-1';
delete process.env.AWS_PROFILE;

const EKS_AUTH = { eks_cluster_name: eks.clusterName, eks_region: eks.region };
const T = 120_000;

let ns: string;
const clusterRole = `kl-eks-pod-reader-${process.pid}`;
const rbac = () => adminKubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);

/** What the apiserver answers a token with: 200, or 401 when it did not authenticate it. */
async function apiserverSays(token: string): Promise<number> {
  try {
    // `get namespaces` is in the broker's ClusterRole (`list` is not: the broker never lists them)
    await tokenKubeConfig(token).makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'default' });
    return 200;
  } catch (e) {
    const s = statusOf(e);
    if (s === undefined) throw e;
    return s;
  }
}

/** A factory whose EKS token sources are the real ones, with every token and 401 recorded. */
function recordingFactory() {
  const seen: string[] = [];
  const invalidated: string[] = [];
  const factory = new ClusterFactory({
    eksTokenSource: (o) => {
      const source = new EksTokenSource(o);
      return {
        token: async () => {
          const t = await source.token();
          if (seen[seen.length - 1] !== t) seen.push(t);
          return t;
        },
        invalidate: (rejected) => {
          invalidated.push(rejected);
          source.invalidate(rejected);
        },
      };
    },
  });
  return { factory, seen, invalidated };
}

async function roles(env: BedEngine): Promise<void> {
  await env.role('existing', { allowed_kubernetes_namespaces: [ns], service_account_name: 'default' });
  await env.role('bind', { allowed_kubernetes_namespaces: [ns], kubernetes_role_name: clusterRole, kubernetes_role_type: 'ClusterRole' });
  await env.role('generated', {
    allowed_kubernetes_namespaces: [ns],
    generated_role_rules: JSON.stringify({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] }),
  });
}

const issue = (env: BedEngine, role: string) => issueCreds(env.deps, { mount: env.mount, roleName: role, caller: CI, body: { kubernetes_namespace: ns, ttl: '15m' } });

beforeAll(async () => {
  ns = await newNamespace('kl-eks');
  await rbac().createClusterRole({ body: { metadata: { name: clusterRole }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] } });
}, T);

afterAll(async () => {
  rmSync(eks.rejectSignedBeforeFile, { force: true });
  await rbac().deleteClusterRole({ name: clusterRole }).catch(() => undefined);
});

describe('an EKS mount (eks_cluster_name + eks_region, no JWT)', () => {
  let env: BedEngine;
  const rec = recordingFactory();

  beforeAll(async () => {
    env = await bedEngine('eks', bed, { auth: EKS_AUTH, kube: rec.factory });
    await roles(env);
  });
  afterAll(() => rec.factory.closeAll());

  test.each(['existing', 'bind', 'generated'])('issues creds for mode %s; the token is the ServiceAccount; revoke cleans up through EKS auth', async (role) => {
    const creds = await issue(env, role);
    const { service_account_name: sa, service_account_token: token } = creds.data;
    expect(await whoIs(token)).toBe(`system:serviceaccount:${ns}:${sa}`);
    if (role !== 'existing') expect(sa).toMatch(new RegExp(`^kl-${role}-`));
    await revokeLease(env.deps, { lease_id: creds.lease.lease_id }, CI);
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([]);
  }, T);

  test('the EKS token is signed once and reused within its window', () => {
    expect(rec.seen).toHaveLength(1);
    expect(rec.invalidated).toEqual([]);
    const url = new URL(urlOf(rec.seen[0] as string));
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${eks.credentials.accessKeyId}/\\d{8}/eu-west-1/sts/aws4_request$`));
  });

  test('the cluster sees the broker’s execution role, mapped by its access entry into the group the broker ClusterRole is bound to', async () => {
    const review = await adminKubeConfig()
      .makeApiClient(k8s.AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token: rec.seen[0] as string } } });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(eks.brokerSessionArn);
    expect(review.status?.user?.groups).toEqual(expect.arrayContaining([eks.brokerGroup, 'system:authenticated']));
    expect(review.status?.user?.uid).toMatch(/^aws-iam-authenticator:000000000000:AROA[A-Z2-7]{17}$/);
    expect(review.status?.user?.extra?.canonicalArn).toEqual([eks.brokerRoleArn]);
    // what the broker ClusterRole grants, and nothing beyond
    const can = async (verb: string, resource: string, group = '') =>
      (
        await tokenKubeConfig(rec.seen[0] as string)
          .makeApiClient(k8s.AuthorizationV1Api)
          .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, group, resource, namespace: ns } } } })
      ).status?.allowed;
    expect(await can('create', 'serviceaccounts')).toBe(true);
    expect(await can('create', 'rolebindings', 'rbac.authorization.k8s.io')).toBe(true);
    expect(await can('list', 'pods')).toBe(false);
    expect(await can('update', 'secrets')).toBe(false);
  }, T);

  test('a token the cluster stops accepting: the broker refreshes it once and carries on', async () => {
    const warm = await issue(env, 'generated'); // a cached token, in use
    await revokeLease(env.deps, { lease_id: warm.lease.lease_id }, CI);
    const before = rec.seen.length;
    const stale = rec.seen[before - 1] as string;
    // the next whole second is later than the stale token's X-Amz-Date and no later than the fresh one's
    const cutoff = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
    await sleep(cutoff.getTime() - Date.now());
    writeFileSync(eks.rejectSignedBeforeFile, cutoff.toISOString());
    try {
      // the apiserver caches successful authentications for 10 s
      await eventually(async () => expect(await apiserverSays(stale)).toBe(401), { timeoutMs: 30_000, intervalMs: 500 });
      const creds = await issue(env, 'generated');
      expect(rec.invalidated.length).toBeGreaterThanOrEqual(1);
      expect(new Set(rec.invalidated)).toEqual(new Set([stale]));
      expect(rec.seen.length).toBe(before + 1); // exactly one new token
      const fresh = rec.seen[before] as string;
      expect(await apiserverSays(fresh)).toBe(200);
      await revokeLease(env.deps, { lease_id: creds.lease.lease_id }, CI);
      expect(rec.seen.length).toBe(before + 1);
    } finally {
      rmSync(eks.rejectSignedBeforeFile, { force: true });
    }
  }, T);
});

describe('role_arn + external_id: AssumeRole through the emulated STS, then the EKS token', () => {
  test('the assumed role’s session is what the cluster sees, mapped aws-auth style', async () => {
    const rec = recordingFactory();
    const env = await bedEngine('eks-assume', bed, { auth: { ...EKS_AUTH, role_arn: eks.clusterAccessRoleArn, external_id: eks.externalId }, kube: rec.factory });
    await roles(env);
    const creds = await issue(env, 'generated');
    expect(await whoIs(creds.data.service_account_token)).toBe(`system:serviceaccount:${ns}:${creds.data.service_account_name}`);
    const review = await adminKubeConfig().makeApiClient(k8s.AuthenticationV1Api).createTokenReview({ body: { spec: { token: rec.seen[0] as string } } });
    expect(review.status?.user?.username).toBe('kubelease-broker:kubelease');
    expect(review.status?.user?.extra?.canonicalArn).toEqual([eks.clusterAccessRoleArn]);
    await revokeLease(env.deps, { lease_id: creds.lease.lease_id }, CI);
    await rec.factory.closeAll();
  }, T);

  test('a wrong external_id is refused by STS: an upstream error naming the role, no secret in it', async () => {
    const env = await bedEngine('eks-wrong-id', bed, { auth: { ...EKS_AUTH, role_arn: eks.clusterAccessRoleArn, external_id: 'not-the-one' } });
    await roles(env);
    const err = (await issue(env, 'generated').catch((e: unknown) => e)) as KubeleaseError;
    expect(err).toBeInstanceOf(KubeleaseError);
    expect(err.kind).toBe('upstream');
    expect(err.message).toMatch(new RegExp(`^assuming role_arn ${eks.clusterAccessRoleArn} for the EKS token failed \\(AccessDenied: User: ${eks.brokerSessionArn.replace(/\//g, '\\/')} is not authorized to perform: sts:AssumeRole`));
    expect(err.message).not.toContain(eks.credentials.secretAccessKey);
  }, T);

  test('a role STS vouches for but the cluster has not mapped: one retry, then 401 as an upstream error', async () => {
    const rec = recordingFactory();
    const env = await bedEngine('eks-unmapped', bed, { auth: { ...EKS_AUTH, role_arn: eks.unmappedRoleArn }, kube: rec.factory });
    await roles(env);
    const err = (await issue(env, 'generated').catch((e: unknown) => e)) as KubeleaseError;
    expect(err.kind).toBe('upstream');
    expect(err.message).toMatch(/^the cluster rejected the broker's credentials \(401 Unauthorized\)/);
    expect(rec.seen).toHaveLength(2); // the first token and one refresh, no loop
    expect(rec.invalidated).toEqual([rec.seen[0]]);
    await rec.factory.closeAll();
  }, T);
});

describe('the apiserver refuses (401) what EKS refuses', () => {
  const base = (): EksUrlOptions => ({ credentials: eks.credentials, clusterId: eks.clusterName, region: eks.region });

  test('control: a correctly built token is accepted (so each refusal below is the rule at work)', async () => {
    expect(await apiserverSays(await eksToken(base()))).toBe(200);
    expect(await apiserverSays(await presignEksToken({ clusterName: eks.clusterName, region: eks.region, credentials: eks.credentials, signingDate: new Date() }))).toBe(200);
  }, T);

  test.each<[string, () => Promise<string>]>([
    ['signed for another cluster name', () => eksToken({ ...base(), clusterId: 'another-cluster' })],
    ['X-Amz-Date older than 15 minutes', () => eksToken({ ...base(), signedAt: new Date(Date.now() - 15 * 60_000 - 5_000) })],
    ['x-k8s-aws-id not signed', () => eksToken({ ...base(), signClusterId: false })],
    ['a host that is not STS', () => eksToken({ ...base(), host: 'sts.eu-west-1.amazonaws.com.attacker.example' })],
    ['an extra query parameter', () => eksToken({ ...base(), query: { 'X-Amz-Extra': '1' } })],
    ['a changed byte of the signature', async () => {
      const token = await eksToken(base());
      const sig = new URL(urlOf(token)).searchParams.get('X-Amz-Signature') as string;
      return withQueryValue(token, 'X-Amz-Signature', `${sig.slice(0, 63)}${sig.endsWith('0') ? '1' : '0'}`);
    }],
    ['a changed byte of the query', async () => withQueryValue(await eksToken(base()), 'Version', '2011-06-16')],
    ['another session token', () => {
      // its last character changed: a session token that already ends in A would be the same one
      const token = eks.credentials.sessionToken;
      return eksToken({ ...base(), credentials: { ...eks.credentials, sessionToken: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` } });
    }],
  ])('%s', async (_what, make) => {
    expect(await apiserverSays(await make())).toBe(401);
  }, T);

  test('a session of a role without an access entry (AssumeRole through the bed STS with the SDK)', async () => {
    const sts = new STSClient({ region: eks.region, credentials: eks.credentials });
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: eks.unmappedRoleArn, RoleSessionName: 'probe' }));
    sts.destroy();
    const c = out.Credentials!;
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::000000000000:assumed-role/kubelease-unmapped/probe`);
    const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    expect(await apiserverSays(await eksToken({ ...base(), credentials }))).toBe(401);
  }, T);
});
