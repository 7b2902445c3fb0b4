/**
 * Issue 10 (security hardening) on the real apiserver, acting as the broker: the
 * ClusterRoleBinding guard, audiences, installations sharing a cluster (and objects from before
 * the installation label), guarded orphan deletes, and the broker's ClusterRole holding exactly
 * the verbs the code uses.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ClientNodeCluster } from '../../lib/adapters/kubernetes/cluster.js';
import { leaseHash, newLeaseId } from '../../lib/domain/index.js';
import { issueCreds, listMounts, revokeLease, sweep, type IssuedCreds } from '../../lib/engine/index.js';
import { adminKubeConfig, brokerKubeConfig, eventually, jwtPayload, newNamespace, uniqueSuffix } from '../support/bed.js';
import { ADMIN, bedEngine, CI, type BedEngine } from '../support/engine.js';
import { exists, listPods, objectsOfLease } from '../support/kube-probes.js';
import { failure } from '../support/failure.js';

let ns: string;
let otherNs: string;
let clusterRole: string;
const adminCore = () => adminKubeConfig().makeApiClient(k8s.CoreV1Api);
const rbac = () => adminKubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);

beforeAll(async () => {
  ns = await newNamespace('kl-sec');
  otherNs = await newNamespace('kl-sec-other');
  clusterRole = `kl-sec-pod-reader-${uniqueSuffix()}`;
  await rbac().createClusterRole({ body: { metadata: { name: clusterRole }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] } });
});

afterAll(async () => {
  await rbac().deleteClusterRole({ name: clusterRole }).catch(() => undefined);
});

const issue = (env: BedEngine, role: string, body: Record<string, unknown> = {}): Promise<IssuedCreds> =>
  issueCreds(env.deps, { mount: env.mount, roleName: role, caller: CI, body: { kubernetes_namespace: ns, ...body } });
const revoke = (env: BedEngine, c: IssuedCreds) => revokeLease(env.deps, { lease_id: c.lease.lease_id }, CI);

describe('item 1: ClusterRoleBinding escape', () => {
  test('a ClusterRole role without allow_cluster_role_binding cannot widen to a ClusterRoleBinding; with it, it can', async () => {
    const env = await bedEngine(`sec1-${uniqueSuffix()}`);
    const editLike = { allowed_kubernetes_namespaces: [ns], kubernetes_role_type: 'ClusterRole', kubernetes_role_name: clusterRole };
    await env.role('ci-edit', editLike);
    const err = await failure(issue(env, 'ci-edit', { cluster_role_binding: true }));
    expect(err.status).toBe(403);
    expect(err.message).toContain('allow_cluster_role_binding');
    expect(env.deps.leases.items.size).toBe(0);
    const crbs = await rbac().listClusterRoleBinding({ labelSelector: `kubelease.io/mount=${env.mount}` });
    expect(crbs.items).toEqual([]);

    // the same role bound by a RoleBinding: pods of its namespace only
    const scoped = await issue(env, 'ci-edit');
    await eventually(async () => expect(await listPods(scoped.data.service_account_token, ns)).toBe('allowed'));
    expect(await listPods(scoped.data.service_account_token, otherNs)).toBe('forbidden');
    await revoke(env, scoped);

    await env.role('ci-edit-wide', { ...editLike, allow_cluster_role_binding: true });
    const wide = await issue(env, 'ci-edit-wide', { cluster_role_binding: true });
    await eventually(async () => expect(await listPods(wide.data.service_account_token, otherNs)).toBe('allowed'));
    await revoke(env, wide);
    expect(await objectsOfLease(wide.lease.lease_hash)).toEqual([]);
  });
});

describe('item 2: audiences', () => {
  test('an audience outside the role is a 403 before anything is created; an allowed one is in the token', async () => {
    const env = await bedEngine(`sec2-${uniqueSuffix()}`);
    await env.role('sa', { allowed_kubernetes_namespaces: [ns], service_account_name: 'default', allowed_audiences: ['kubelease-test'] });
    const sts = await failure(issue(env, 'sa', { audiences: 'sts.amazonaws.com' }));
    expect(sts.status).toBe(403);
    expect(sts.message).toContain('"sts.amazonaws.com"');
    expect(env.deps.leases.items.size).toBe(0);
    const ok = await issue(env, 'sa', { audiences: 'kubelease-test' });
    expect(jwtPayload(ok.data.service_account_token).aud).toEqual(['kubelease-test']);
    await revoke(env, ok);
  });
});

describe('item 3: installations sharing a cluster and a mount name', () => {
  const settings = { orphanGraceSeconds: 1 };
  const pastGrace = () => sleep(2100); // creationTimestamp counts whole seconds
  const deadline = () => new Date(Date.now() + 60_000);

  test("one deployment's sweeper never deletes another's live objects; each sweeps its own orphans", async () => {
    const mount = `sec3-${uniqueSuffix()}`;
    const a = await bedEngine(mount);
    const b = await bedEngine(mount);
    Object.assign(a.deps.settings, settings);
    Object.assign(b.deps.settings, settings);
    const [idA, idB] = [(await listMounts(a.deps, { caller: ADMIN })).installation_id, (await listMounts(b.deps, { caller: ADMIN })).installation_id];
    expect(idA).not.toBe(idB);
    await a.role('gen', { allowed_kubernetes_namespaces: [ns], generated_role_rules: 'rules:\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["list"]\n' });
    const creds = await issue(a, 'gen');
    const sa = await adminCore().readNamespacedServiceAccount({ namespace: ns, name: creds.data.service_account_name });
    expect(sa.metadata?.labels?.['kubelease.io/installation']).toBe(idA);
    await pastGrace();

    const reportB = await sweep(b.deps, { deadline: deadline() });
    expect(reportB.failures).toEqual([]);
    expect(await objectsOfLease(creds.lease.lease_hash)).toHaveLength(3);
    await eventually(async () => expect(await listPods(creds.data.service_account_token, ns)).toBe('allowed'));

    // A's lease item vanishes without cleanup (a lost stream record): A sweeps its orphans, B still does not
    a.deps.leases.items.clear();
    expect((await sweep(b.deps, { deadline: deadline() })).orphansRemoved).toBe(0);
    expect(await objectsOfLease(creds.lease.lease_hash)).toHaveLength(3);
    expect((await sweep(a.deps, { deadline: deadline() })).orphansRemoved).toBe(3);
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([]);
  });

  test('objects from before the installation label stay sweepable', async () => {
    const mount = `sec3l-${uniqueSuffix()}`;
    const env = await bedEngine(mount);
    Object.assign(env.deps.settings, settings);
    const legacyLabels = (hash: string) => ({ 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/lease': hash, 'kubelease.io/role': 'old', 'kubelease.io/mount': mount });
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const legacySa = (name: string, hash: string, expiresAt: string) =>
      adminCore().createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name, labels: legacyLabels(hash), annotations: { 'kubelease.io/expires-at': expiresAt } } } });

    // (a) a lease issued before the upgrade: its item still lists the objects, revoke removes them
    const leaseId = newLeaseId(mount, 'old', () => uniqueSuffix(12).slice(0, 24));
    const hash = leaseHash(leaseId);
    const oldName = `kl-old-${uniqueSuffix()}`;
    await legacySa(oldName, hash, at(3_600_000));
    await env.deps.leases.create({
      lease_id: leaseId, lease_hash: hash, mount, role: 'old', namespace: ns, caller_arn: CI.arn, status: 'active',
      issued_at: Math.floor(Date.now() / 1000), expires_at: Math.floor(Date.now() / 1000) + 3600,
      service_account_name: oldName,
      plan: {
        objects: [{ kind: 'ServiceAccount', namespace: ns, name: oldName, labels: legacyLabels(hash), annotations: { 'kubelease.io/expires-at': at(3_600_000) } }],
        token: { serviceAccount: { namespace: ns, name: oldName }, audiences: [], expirationSeconds: 3600 },
      } as never,
    });
    // (b) an orphan whose expiry passed: its token is dead whoever issued it, so it is swept
    const deadName = `kl-dead-${uniqueSuffix()}`;
    await legacySa(deadName, 'dead0000000000000000', at(-3_600_000));
    // (c) an unlabeled object whose lease this deployment does not know and whose expiry lies
    // ahead: possibly another deployment's live lease, so it waits for its expiry
    const aliveName = `kl-alive-${uniqueSuffix()}`;
    await legacySa(aliveName, 'else0000000000000000', at(3_600_000));
    await pastGrace();

    const report = await sweep(env.deps, { deadline: deadline() });
    expect(report.failures).toEqual([]);
    expect(await exists('ServiceAccount', deadName, ns)).toBe(false);
    expect(await exists('ServiceAccount', aliveName, ns)).toBe(true);
    expect(await exists('ServiceAccount', oldName, ns)).toBe(true);
    expect((await revokeLease(env.deps, { lease_id: leaseId }, ADMIN)).deleted).toBe(1);
    expect(await exists('ServiceAccount', oldName, ns)).toBe(false);
    await adminCore().deleteNamespacedServiceAccount({ namespace: ns, name: aliveName });
  });
});

describe('item 11: guarded orphan deletes', () => {
  test('a managed object without the lease label is left alone by the sweeper, however old its expiry', async () => {
    const env = await bedEngine(`sec11-${uniqueSuffix()}`);
    env.deps.settings.orphanGraceSeconds = 1;
    const name = `kl-nolease-${uniqueSuffix()}`;
    await adminCore().createNamespacedServiceAccount({
      namespace: ns,
      body: {
        metadata: {
          name,
          labels: { 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/mount': env.mount },
          annotations: { 'kubelease.io/expires-at': '2020-01-01T00:00:00Z' },
        },
      },
    });
    await sleep(2100);
    const report = await sweep(env.deps, { deadline: new Date(Date.now() + 60_000) });
    expect(report).toMatchObject({ orphansRemoved: 0, failures: [] });
    expect(await exists('ServiceAccount', name, ns)).toBe(true);
    await adminCore().deleteNamespacedServiceAccount({ namespace: ns, name });
  });
});

describe('item 14: the broker ClusterRole holds exactly the verbs the code uses', () => {
  /** (group, resource, verb) the adapter and `roles check` use; literal, reviewed by hand. */
  const USED = [
    ['', 'secrets', 'create'], ['', 'secrets', 'delete'], ['', 'secrets', 'get'], ['', 'secrets', 'list'],
    ['', 'serviceaccounts', 'create'], ['', 'serviceaccounts', 'delete'], ['', 'serviceaccounts', 'get'], ['', 'serviceaccounts', 'list'],
    ['', 'serviceaccounts/token', 'create'],
    ['', 'namespaces', 'get'],
    ['rbac.authorization.k8s.io', 'roles', 'create'], ['rbac.authorization.k8s.io', 'roles', 'delete'], ['rbac.authorization.k8s.io', 'roles', 'get'], ['rbac.authorization.k8s.io', 'roles', 'list'],
    ['rbac.authorization.k8s.io', 'roles', 'bind'], ['rbac.authorization.k8s.io', 'roles', 'escalate'],
    ['rbac.authorization.k8s.io', 'clusterroles', 'create'], ['rbac.authorization.k8s.io', 'clusterroles', 'delete'], ['rbac.authorization.k8s.io', 'clusterroles', 'get'], ['rbac.authorization.k8s.io', 'clusterroles', 'list'],
    ['rbac.authorization.k8s.io', 'clusterroles', 'bind'], ['rbac.authorization.k8s.io', 'clusterroles', 'escalate'],
    ['rbac.authorization.k8s.io', 'rolebindings', 'create'], ['rbac.authorization.k8s.io', 'rolebindings', 'delete'], ['rbac.authorization.k8s.io', 'rolebindings', 'get'], ['rbac.authorization.k8s.io', 'rolebindings', 'list'],
    ['rbac.authorization.k8s.io', 'clusterrolebindings', 'create'], ['rbac.authorization.k8s.io', 'clusterrolebindings', 'delete'], ['rbac.authorization.k8s.io', 'clusterrolebindings', 'get'], ['rbac.authorization.k8s.io', 'clusterrolebindings', 'list'],
    ['authorization.k8s.io', 'selfsubjectaccessreviews', 'create'],
  ] as const;
  /**
   * Granted before issue 10 and never used. (selfsubjectrulesreviews went too, but every
   * authenticated identity may create those through the bootstrap system:basic-user role.)
   */
  const REMOVED = [
    ['', 'namespaces', 'list'],
    ['authentication.k8s.io', 'tokenreviews', 'create'],
  ] as const;
  const key = ([g, r, v]: readonly [string, string, string]) => `${g}/${r}:${v}`;

  test('the manifest grants exactly these (group, resource, verb) triples', () => {
    const docs = parseAllDocuments(readFileSync(new URL('../../deploy/kubernetes/broker-rbac.yaml', import.meta.url), 'utf8')).map((d) => d.toJSON() as k8s.V1ClusterRole);
    const role = docs.find((d) => d?.kind === 'ClusterRole');
    const granted = (role?.rules ?? []).flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))));
    expect([...new Set(granted)].sort()).toEqual(USED.map(key).sort());
    expect(granted).toHaveLength(new Set(granted).size);
  });

  test('on the bed the broker may do each of them and none of the removed ones', async () => {
    const broker = new ClientNodeCluster(brokerKubeConfig());
    try {
      const ask = (t: readonly [string, string, string]) => {
        const [resource, subresource] = t[1].split('/');
        const namespaced = !['namespaces', 'clusterroles', 'clusterrolebindings', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'tokenreviews'].includes(resource!);
        return { verb: t[2], group: t[0], resource: resource!, ...(subresource ? { subresource } : {}), ...(namespaced ? { namespace: ns } : {}) };
      };
      const used = await broker.canI(USED.map(ask));
      expect(used.filter((c) => !c.allowed)).toEqual([]);
      const removed = await broker.canI(REMOVED.map(ask));
      expect(removed.map((c) => c.allowed)).toEqual([false, false]);
    } finally {
      await broker.close();
    }
  });
});
