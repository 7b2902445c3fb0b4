/** A recording fake of OUR KubeCluster port (not of Kubernetes): for engine flow tests only. */
import { FixedClock, MemoryConfigStore, MemoryLeaseStore, MemoryRoleStore } from '../../../lib/adapters/memory/index.js';
import { randomIds } from '../../../lib/adapters/random-ids.js';
import { invalid, type ClusterConfig, type ObjectRef, type PlanObject } from '../../../lib/domain/index.js';
import { defaultSettings, writeConfig, type EngineDeps, type EngineSettings } from '../../../lib/engine/index.js';
import type { AccessCheck, DeleteGuard, IssuedToken, KubeClientFactory, KubeCluster, ManagedObject } from '../../../lib/ports.js';
import { FAKE_ADMIN, FAKE_JWT } from '../../support/fixtures.js';

export class RecordingCluster implements KubeCluster {
  calls: string[] = [];
  /** deletes that came without a guard: none may (issue 10, item 11) */
  unguardedDeletes = 0;
  objects = new Map<string, ManagedObject>();
  failOn: ((op: string, kind?: string) => Error | undefined) | undefined;
  namespaces: Record<string, Record<string, string>> = { team: { stage: 'dev' }, other: {} };
  serviceAccounts = new Set(['team/default']);
  private uid = 0;
  constructor(private readonly now: () => number = Date.now) {}

  private check(op: string, kind?: string) {
    const err = this.failOn?.(op, kind);
    if (err) throw err;
  }
  async create(o: PlanObject, owner?: { name: string; uid: string }) {
    this.calls.push(`create ${o.kind}${owner ? ` owner=${owner.name}` : ''}`);
    this.check('create', o.kind);
    // the adapter's answer to the apiserver's 404 (test/integration/kube-cluster.test.ts)
    if (o.namespace !== undefined && !(o.namespace in this.namespaces)) throw invalid(`namespace "${o.namespace}" does not exist in the cluster`);
    this.objects.set(`${o.kind}/${o.namespace ?? ''}/${o.name}`, { kind: o.kind, name: o.name, labels: o.labels, annotations: o.annotations, ...(o.namespace ? { namespace: o.namespace } : {}) });
    return { uid: `uid-${++this.uid}` };
  }
  async delete(ref: ObjectRef, guard?: DeleteGuard) {
    this.calls.push(`delete ${ref.kind}`);
    if (!guard) this.unguardedDeletes++;
    this.check('delete', ref.kind);
    const key = `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
    const current = this.objects.get(key);
    const installation = current?.labels['kubelease.io/installation'];
    const otherInstallation = guard?.installation !== undefined && installation !== undefined && installation !== guard.installation;
    if (!current || !guard || current.labels['kubelease.io/lease'] !== guard.leaseHash || otherInstallation) return 'absent' as const;
    this.objects.delete(key);
    return 'deleted' as const;
  }
  async requestToken(spec: { namespace: string; serviceAccount: string; expirationSeconds: number; boundSecret?: { name: string; uid: string } }): Promise<IssuedToken> {
    this.calls.push(`token${spec.boundSecret ? ' bound' : ''}`);
    this.check('token');
    const generated = this.objects.has(`ServiceAccount/${spec.namespace}/${spec.serviceAccount}`);
    if (!generated && !this.serviceAccounts.has(`${spec.namespace}/${spec.serviceAccount}`)) {
      throw invalid(`service account "${spec.serviceAccount}" does not exist in namespace "${spec.namespace}"`);
    }
    return { token: 'header.payload.signature', expiresAt: new Date(this.now() + spec.expirationSeconds * 1000) };
  }
  async getNamespaceLabels(name: string) {
    return this.namespaces[name];
  }
  async serviceAccountExists(namespace: string, name: string) {
    return this.serviceAccounts.has(`${namespace}/${name}`);
  }
  async roleExists() {
    return true;
  }
  async listManaged() {
    return [...this.objects.values()];
  }
  async canI(checks: Omit<AccessCheck, 'allowed' | 'reason'>[]) {
    return checks.map((c) => ({ ...c, allowed: c.verb !== 'escalate' }));
  }
}

export const factoryOf = (cluster: KubeCluster): KubeClientFactory => ({ forCluster: async (_c: ClusterConfig) => cluster });


/** Role `gen` of most engine tests: a generated Role that lists pods in namespace team, for the CI role. */
export const GEN_ROLE_BODY = { allowed_kubernetes_namespaces: 'team', generated_role_rules: '{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}', allowed_principals: 'arn:aws:iam::111111111111:role/ci' };

export type MemoryDeps = EngineDeps & { configs: MemoryConfigStore; roles: MemoryRoleStore; leases: MemoryLeaseStore; clock: FixedClock };

/**
 * One deployment on in-memory stores (our ports) reaching `cluster`, FAKE_ADMIN its admin, with
 * mount c1 configured. Tests that share a cluster between deployments pass the same one.
 */
export async function memoryDeployment(
  opts: { clock?: FixedClock; cluster?: RecordingCluster; settings?: Partial<EngineSettings> } = {},
): Promise<{ deps: MemoryDeps; cluster: RecordingCluster; clock: FixedClock }> {
  const clock = opts.clock ?? new FixedClock(new Date('2026-11-25T12:00:00Z'));
  const cluster = opts.cluster ?? new RecordingCluster(() => clock.now().getTime());
  const deps: MemoryDeps = {
    configs: new MemoryConfigStore(),
    roles: new MemoryRoleStore(),
    leases: new MemoryLeaseStore(),
    kube: factoryOf(cluster),
    clock,
    ids: randomIds,
    settings: { ...defaultSettings, adminPrincipals: [FAKE_ADMIN.arn], ...opts.settings },
  };
  await writeConfig(deps, { mount: 'c1', caller: FAKE_ADMIN, body: { kubernetes_host: 'https://127.0.0.1:6443', service_account_jwt: FAKE_JWT } });
  return { deps, cluster, clock };
}
