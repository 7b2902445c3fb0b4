/**
 * The broker identity: deploy/kubernetes/broker-rbac.yaml applied as cluster-admin, a
 * TokenRequest for its ServiceAccount, and a kubeconfig that uses that token.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { BROKER_NAMESPACE, BROKER_SERVICE_ACCOUNT, BROKER_TOKEN_TTL_SECONDS, ISSUER } from './constants.js';
import { BedError } from './errors.js';
import { kubeConfigFromFile, kubeconfigYaml } from './kubeconfig.js';
import { BROKER_RBAC_MANIFEST } from './paths.js';
import type { Proc } from './processes.js';
import { waitFor } from './wait-for.js';

/** Create or replace every object of a multi-document manifest, as the given identity. */
export async function applyManifest(kc: k8s.KubeConfig, manifest: string): Promise<k8s.KubernetesObject[]> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const out: k8s.KubernetesObject[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    if (doc.errors.length) throw new BedError(`invalid YAML in manifest: ${doc.errors[0]?.message}`);
    const obj = doc.toJSON() as k8s.KubernetesObject | null;
    if (!obj?.kind) continue;
    try {
      out.push(await api.create(obj));
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
      const current = await api.read({ apiVersion: obj.apiVersion!, kind: obj.kind, metadata: { name: obj.metadata!.name!, namespace: obj.metadata?.namespace } });
      out.push(await api.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } }));
    }
  }
  return out;
}

export interface BrokerIdentityTarget {
  adminKc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  /** fail fast if it dies while we wait for RBAC */
  apiserver: Proc;
  apiUrl: string;
  caPem: string;
  dir: string;
}

/**
 * Applies the broker RBAC manifest, requests a token and writes <dir>/broker.kubeconfig; returns
 * once the authorizer lets the broker create ServiceAccounts.
 */
export async function createBrokerIdentity(t: BrokerIdentityTarget): Promise<{ token: string; kubeconfigPath: string }> {
  const manifest = readFileSync(BROKER_RBAC_MANIFEST, 'utf8');
  await applyManifest(t.adminKc, manifest);
  const tr = await t.core.createNamespacedServiceAccountToken({
    name: BROKER_SERVICE_ACCOUNT,
    namespace: BROKER_NAMESPACE,
    body: { spec: { audiences: [ISSUER], expirationSeconds: BROKER_TOKEN_TTL_SECONDS } },
  });
  const brokerToken = tr.status?.token;
  if (!brokerToken) throw new BedError('TokenRequest for the broker returned no token');
  const brokerKubeconfigPath = path.join(t.dir, 'broker.kubeconfig');
  writeFileSync(brokerKubeconfigPath, kubeconfigYaml(t.apiUrl, t.caPem, { token: brokerToken }, 'kubelease-broker'), { mode: 0o600 });
  // RBAC is served from an informer cache: wait until the binding is visible to the authorizer
  const brokerAuthz = kubeConfigFromFile(brokerKubeconfigPath).makeApiClient(k8s.AuthorizationV1Api);
  await waitFor('broker RBAC (SelfSubjectAccessReview create serviceaccounts)', t.apiserver, 30_000, async () => {
    const r = await brokerAuthz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: 'create', resource: 'serviceaccounts', namespace: 'default' } } },
    });
    return r.status?.allowed === true;
  });
  return { token: brokerToken, kubeconfigPath: brokerKubeconfigPath };
}
