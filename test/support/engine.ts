/** An engine wired to the real test-bed cluster, with in-memory stores (ports, not Kubernetes). */
import { ClusterFactory } from '../../lib/adapters/kubernetes/factory.js';
import { MemoryAudit, MemoryConfigStore, MemoryLeaseStore, MemoryRoleStore } from '../../lib/adapters/memory/index.js';
import { randomIds } from '../../lib/adapters/random-ids.js';
import { defaultSettings, writeConfig, writeRole, type Caller, type EngineDeps } from '../../lib/engine/index.js';
import type { KubeClientFactory } from '../../lib/ports.js';
import { loadBed, type TestBedInfo } from './bed.js';

export const ADMIN: Caller = { arn: 'arn:aws:iam::123456789012:user/platform-admin' };
export const CI_ROLE_ARN = 'arn:aws:iam::123456789012:role/ci-deployer';
export const CI: Caller = { arn: 'arn:aws:sts::123456789012:assumed-role/ci-deployer/build-42' };
export const STRANGER: Caller = { arn: 'arn:aws:iam::123456789012:user/mallory' };

export interface BedEngine {
  deps: EngineDeps & { leases: MemoryLeaseStore; roles: MemoryRoleStore; audit: MemoryAudit };
  mount: string;
  role(name: string, body: Record<string, unknown>): Promise<void>;
}

export interface BedEngineOptions {
  /** how the broker authenticates; default the bed's broker ServiceAccount JWT */
  auth?: Record<string, string>;
  kube?: KubeClientFactory;
}

export async function bedEngine(mount = 'bed', bed: TestBedInfo = loadBed(), options: BedEngineOptions = {}): Promise<BedEngine> {
  const deps = {
    configs: new MemoryConfigStore(),
    roles: new MemoryRoleStore(),
    leases: new MemoryLeaseStore(),
    kube: options.kube ?? new ClusterFactory(),
    clock: { now: () => new Date() },
    ids: randomIds,
    audit: new MemoryAudit(),
    settings: { ...defaultSettings, adminPrincipals: [ADMIN.arn] },
  };
  await writeConfig(deps, {
    mount,
    caller: ADMIN,
    body: { kubernetes_host: bed.apiserver.url, kubernetes_ca_cert: bed.apiserver.caPem, ...(options.auth ?? { service_account_jwt: bed.broker.token }) },
  });
  return {
    deps,
    mount,
    role: async (name, body) => {
      await writeRole(deps, { mount, name, caller: ADMIN, body: { allowed_principals: [CI_ROLE_ARN], ...body } });
    },
  };
}
