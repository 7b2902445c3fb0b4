/**
 * Issuance killed between any two of its steps leaves nothing behind once the sweeper has run
 * (issue 13 §1). A "kill" after step N: the first N calls the issuance makes to the outside world
 * (lease write, each create, the TokenRequest) happen on the real apiserver; the call after them
 * and every later one never returns, so no rollback runs either, as when the process dies. Then
 * a sweep, on a clock past the pending and orphan graces but before the lease's expiry, must leave
 * no labeled object of the mount without a complete live lease, and no incomplete lease; a sweep
 * past the expiry leaves nothing at all.
 */
import * as k8s from '@kubernetes/client-node';
import { issueCreds, sweep, type EngineDeps } from '../../lib/engine/index.js';
import type { KubeClientFactory, KubeCluster, LeaseStore } from '../../lib/ports.js';
import { adminKubeConfig, newNamespace } from '../support/bed.js';
import { bedEngine, CI, type BedEngine } from '../support/engine.js';

const GRACE = { pendingGraceSeconds: 120, orphanGraceSeconds: 60 };
const TTL_SECONDS = 3600;

/** Counts the issuance's outside calls; from call `n + 1` on, every call hangs forever. */
class Kill {
  calls: string[] = [];
  private readonly inFlight: Promise<unknown>[] = [];
  constructor(private readonly n: number) {}
  step<T>(name: string, run: () => Promise<T>): Promise<T> {
    if (this.calls.length >= this.n) return new Promise<T>(() => undefined);
    this.calls.push(name);
    const p = run();
    this.inFlight.push(p.catch(() => undefined));
    return p;
  }
  /** the steps that did start have reached the cluster and the store */
  settled = () => Promise.all(this.inFlight);
}

function killable(deps: EngineDeps, kill: Kill): EngineDeps {
  const leases: LeaseStore = Object.create(deps.leases) as LeaseStore;
  leases.create = (lease) => kill.step('lease', () => deps.leases.create(lease));
  leases.transition = (...a) => kill.step('transition', () => deps.leases.transition(...a));
  leases.delete = (id) => kill.step('lease delete', () => deps.leases.delete(id));
  const kube: KubeClientFactory = {
    forCluster: async (config) => {
      const real = await deps.kube.forCluster(config);
      const cluster: KubeCluster = Object.create(real) as KubeCluster;
      cluster.create = (o, owner) => kill.step(`create ${o.kind}`, () => real.create(o, owner));
      cluster.requestToken = (spec) => kill.step('token', () => real.requestToken(spec));
      cluster.delete = (ref, guard) => kill.step(`delete ${ref.kind}`, () => real.delete(ref, guard));
      return cluster;
    },
  };
  return { ...deps, leases, kube };
}

let env: BedEngine;
const labeledInNamespace = async (namespace: string, mount: string): Promise<string[]> => {
  const kc = adminKubeConfig();
  const labelSelector = `kubelease.io/mount=${mount}`;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const [sas, secrets, roles, bindings] = await Promise.all([
    core.listNamespacedServiceAccount({ namespace, labelSelector }),
    core.listNamespacedSecret({ namespace, labelSelector }),
    rbac.listNamespacedRole({ namespace, labelSelector }),
    rbac.listNamespacedRoleBinding({ namespace, labelSelector }),
  ]);
  return [
    ...sas.items.map((o) => `ServiceAccount/${o.metadata?.name}`),
    ...secrets.items.map((o) => `Secret/${o.metadata?.name}`),
    ...roles.items.map((o) => `Role/${o.metadata?.name}`),
    ...bindings.items.map((o) => `RoleBinding/${o.metadata?.name}`),
  ].sort();
};

beforeAll(async () => {
  env = await bedEngine(`crash-${Date.now().toString(36)}`);
  env.deps.settings = { ...env.deps.settings, ...GRACE };
});

const MODES = [
  { role: 'crash-generated', steps: ['lease', 'create ServiceAccount', 'create Role', 'create RoleBinding', 'token'], body: { generated_role_rules: '{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}' } },
  { role: 'crash-existing', steps: ['lease', 'create Secret', 'token'], body: { service_account_name: 'default' } },
];

describe.each(MODES)('$role: killed after each step, a sweep leaves no orphan', ({ role, steps, body }) => {
  test.each(Array.from({ length: steps.length + 1 }, (_, n) => n))('killed after step %i', async (n) => {
    const namespace = await newNamespace('kl-crash');
    await env.role(role, { allowed_kubernetes_namespaces: '*', ...body });
    const kill = new Kill(n);
    const started = Date.now();
    const issuing = issueCreds(killable(env.deps, kill), { mount: env.mount, roleName: role, caller: CI, body: { kubernetes_namespace: namespace, ttl: `${TTL_SECONDS}s` } });
    // the issuance returns only when it was not killed at all (then only its answer is lost)
    const finished = await Promise.race([issuing.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3000))]);
    await kill.settled();
    expect(kill.calls).toEqual(steps.slice(0, n));
    expect(finished).toBe(n === steps.length);
    const leasesOfNamespace = () => [...env.deps.leases.items.values()].filter((l) => l.namespace === namespace);
    const left = await labeledInNamespace(namespace, env.mount);
    expect(left.length).toBe(steps.slice(0, n).filter((s) => s.startsWith('create')).length);

    const past = (seconds: number) => ({ now: () => new Date(started + seconds * 1000) });
    const deadline = new Date(started + 10 * TTL_SECONDS * 1000);
    // past both graces, before the lease's expiry
    const report = await sweep({ ...env.deps, clock: past(GRACE.pendingGraceSeconds + GRACE.orphanGraceSeconds + 60) }, { deadline });
    expect(report.failures).toEqual([]);
    const after = await labeledInNamespace(namespace, env.mount);
    const live = leasesOfNamespace();
    if (n >= steps.length - 1) {
      // every object exists (the TokenRequest or the answer was lost): a complete lease owns them
      // all and ends at its expiry like any other
      expect(live).toHaveLength(1);
      expect(after).toEqual(live[0]?.plan.objects.map((o) => `${o.kind}/${o.name}`).sort());
      // a second past the lease's own expiry: `started` + TTL may still be within its second
      // when the issuance read its clock a second boundary after `started`
      const expiresAt = live[0]?.expires_at ?? 0;
      await sweep({ ...env.deps, clock: { now: () => new Date((expiresAt + 1) * 1000) } }, { deadline });
      expect(await labeledInNamespace(namespace, env.mount)).toEqual([]);
      expect(leasesOfNamespace()).toEqual([]);
    } else {
      expect(after).toEqual([]);
      expect(live).toEqual([]);
    }
  }, 60_000);
});
