/**
 * KubeClientFactory: one ClientNodeCluster per mount, kept across warm Lambda invocations so the
 * TLS connection and (for EKS) the signed token are reused. The entry is replaced as soon as
 * the mount's config changes (host, CA, JWT, EKS cluster/region/role): the cache key includes a
 * fingerprint of all of them (EKS: cluster, region, role and external id).
 */
import { createHash } from 'node:crypto';
import type { ClusterAuth, ClusterConfig } from '../../domain/types.js';
import type { KubeClientFactory, KubeCluster } from '../../ports.js';
import { EksTokenSource, type EksTokenOptions } from '../eks/token.js';
import { ClientNodeCluster, type BearerTokenSource, type ClusterOptions } from './cluster.js';

export interface ClusterFactoryOptions extends Omit<ClusterOptions, 'tokenSource'> {
  /** builds the EKS token source (tests inject credentials / STS); default `new EksTokenSource(o)` */
  eksTokenSource?: (options: EksTokenOptions) => BearerTokenSource;
}

/** sha256 over everything that shapes the connection; secrets never leave this function */
export function configFingerprint(config: ClusterConfig): string {
  const auth: ClusterAuth = config.auth;
  const parts =
    auth.kind === 'service_account_jwt'
      ? ['jwt', auth.service_account_jwt]
      : ['eks', auth.eks_cluster_name, auth.eks_region, auth.role_arn ?? '', auth.external_id ?? ''];
  return createHash('sha256')
    .update(JSON.stringify([config.mount, config.kubernetes_host, config.kubernetes_ca_cert, ...parts]))
    .digest('hex');
}

export class ClusterFactory implements KubeClientFactory {
  private readonly cache = new Map<string, { fingerprint: string; cluster: ClientNodeCluster }>();

  constructor(private readonly options: ClusterFactoryOptions = {}) {}

  async forCluster(config: ClusterConfig): Promise<KubeCluster> {
    const key = `${config.mount}\u0000${config.kubernetes_host}`;
    const fingerprint = configFingerprint(config);
    const hit = this.cache.get(key);
    if (hit?.fingerprint === fingerprint) return hit.cluster;
    // stale entries for this mount (any host): drop them, let in-flight requests finish
    for (const [k, v] of this.cache) {
      if (k.startsWith(`${config.mount}\u0000`)) {
        this.cache.delete(k);
        void v.cluster.close().catch(() => undefined);
      }
    }
    const cluster = this.build(config);
    this.cache.set(key, { fingerprint, cluster });
    return cluster;
  }

  /** number of cached clusters (tests, metrics) */
  get size(): number {
    return this.cache.size;
  }

  async closeAll(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(all.map((e) => e.cluster.close().catch(() => undefined)));
  }

  private build(config: ClusterConfig): ClientNodeCluster {
    const { eksTokenSource, ...clusterOptions } = this.options;
    const auth = config.auth;
    const base = { server: config.kubernetes_host, caPem: config.kubernetes_ca_cert, ...clusterOptions };
    if (auth.kind === 'service_account_jwt') {
      return ClientNodeCluster.fromConnection({ ...base, token: auth.service_account_jwt });
    }
    const eksOptions: EksTokenOptions = {
      clusterName: auth.eks_cluster_name,
      region: auth.eks_region,
      ...(auth.role_arn ? { roleArn: auth.role_arn } : {}),
      ...(auth.external_id ? { externalId: auth.external_id } : {}),
    };
    const source = eksTokenSource ? eksTokenSource(eksOptions) : new EksTokenSource(eksOptions);
    return ClientNodeCluster.fromConnection({ ...base, tokenSource: source });
  }
}
