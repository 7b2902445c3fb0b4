import { ClusterFactory, configFingerprint } from '../../../lib/adapters/kubernetes/factory.js';
import { ClientNodeCluster } from '../../../lib/adapters/kubernetes/cluster.js';
import type { EksTokenOptions } from '../../../lib/adapters/eks/token.js';
import type { ClusterConfig } from '../../../lib/domain/types.js';
import { KubeleaseError } from '../../../lib/domain/errors.js';

// a syntactically valid PEM block is enough: nothing here opens a connection
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

const eks = (over: Partial<ClusterConfig> = {}, role_arn?: string): ClusterConfig => ({
  mount: 'prod',
  kubernetes_host: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
  kubernetes_ca_cert: CA,
  disable_local_ca_jwt: false,
  auth: { kind: 'eks', eks_cluster_name: 'prod', eks_region: 'eu-west-1', ...(role_arn ? { role_arn } : {}) },
  ...over,
});
const jwt = (token: string, over: Partial<ClusterConfig> = {}): ClusterConfig => ({
  mount: 'dev',
  kubernetes_host: 'https://127.0.0.1:6443',
  kubernetes_ca_cert: CA,
  disable_local_ca_jwt: false,
  auth: { kind: 'service_account_jwt', service_account_jwt: token },
  ...over,
});

function factoryWithSpy() {
  const built: EksTokenOptions[] = [];
  const factory = new ClusterFactory({
    eksTokenSource: (o) => {
      built.push(o);
      return { token: async () => 'k8s-aws-v1.test', invalidate: () => {} };
    },
  });
  return { factory, built };
}

describe('ClusterFactory (EKS and JWT auth)', () => {
  it('builds an EKS cluster with a token source for the cluster, region and role', async () => {
    const { factory, built } = factoryWithSpy();
    const c = await factory.forCluster(eks({}, 'arn:aws:iam::123456789012:role/broker'));
    expect(c).toBeInstanceOf(ClientNodeCluster);
    expect((c as ClientNodeCluster).server).toBe('https://ABC.gr7.eu-west-1.eks.amazonaws.com');
    expect(built).toEqual([{ clusterName: 'prod', region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/broker' }]);
  });

  it('reuses the instance (and its token source) across calls while the config is unchanged', async () => {
    const { factory, built } = factoryWithSpy();
    const a = await factory.forCluster(eks());
    const b = await factory.forCluster(eks());
    expect(b).toBe(a);
    expect(built).toHaveLength(1);
  });

  it('replaces the instance when anything that shapes the connection changes', async () => {
    const { factory, built } = factoryWithSpy();
    const a = await factory.forCluster(eks());
    const b = await factory.forCluster(eks({}, 'arn:aws:iam::123456789012:role/other'));
    expect(b).not.toBe(a);
    const c = await factory.forCluster(eks({ kubernetes_host: 'https://XYZ.gr7.eu-west-1.eks.amazonaws.com' }));
    expect(c).not.toBe(b);
    const d = await factory.forCluster(eks({ kubernetes_host: 'https://XYZ.gr7.eu-west-1.eks.amazonaws.com', kubernetes_ca_cert: CA.replace('fake', 'fak2') }));
    expect(d).not.toBe(c);
    expect(built).toHaveLength(4);
    expect(factory.size).toBe(1); // one live entry per mount
  });

  it('keys JWT clusters by the token too, and keeps mounts apart', async () => {
    const { factory } = factoryWithSpy();
    const a = await factory.forCluster(jwt('jwt-one'));
    expect(await factory.forCluster(jwt('jwt-one'))).toBe(a);
    const b = await factory.forCluster(jwt('jwt-two'));
    expect(b).not.toBe(a);
    const other = await factory.forCluster(jwt('jwt-two', { mount: 'staging' }));
    expect(other).not.toBe(b);
    expect(factory.size).toBe(2);
    await factory.closeAll();
    expect(factory.size).toBe(0);
  });

  it('passes external_id to the token source and keys the instance by it', async () => {
    const { factory, built } = factoryWithSpy();
    const roleArn = 'arn:aws:iam::123456789012:role/broker';
    const withId = (external_id: string) => eks({ auth: { kind: 'eks', eks_cluster_name: 'prod', eks_region: 'eu-west-1', role_arn: roleArn, external_id } });
    const a = await factory.forCluster(withId('tenant-1'));
    expect(await factory.forCluster(withId('tenant-1'))).toBe(a);
    expect(await factory.forCluster(withId('tenant-2'))).not.toBe(a);
    expect(built).toEqual([
      { clusterName: 'prod', region: 'eu-west-1', roleArn, externalId: 'tenant-1' },
      { clusterName: 'prod', region: 'eu-west-1', roleArn, externalId: 'tenant-2' },
    ]);
  });

  it('fingerprints never contain the secret and differ per secret', () => {
    const fp = configFingerprint(jwt('super-secret-jwt'));
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).not.toContain('super-secret');
    expect(configFingerprint(jwt('other'))).not.toBe(fp);
    expect(configFingerprint(eks())).not.toBe(configFingerprint(eks({}, 'arn:aws:iam::1:role/x')));
  });

  it('rejects a CA that is not PEM (or base64 PEM) with a clear invalid error', async () => {
    const { factory } = factoryWithSpy();
    await expect(factory.forCluster(jwt('t', { kubernetes_ca_cert: 'not a certificate' }))).rejects.toBeInstanceOf(KubeleaseError);
    // base64 of a PEM bundle (kubeconfig style) is accepted
    await expect(factory.forCluster(jwt('t', { kubernetes_ca_cert: Buffer.from(CA).toString('base64') }))).resolves.toBeInstanceOf(ClientNodeCluster);
  });
});
