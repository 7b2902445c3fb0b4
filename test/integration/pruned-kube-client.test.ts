/**
 * The Kubernetes adapter as the Lambdas run it: lib/adapters/kubernetes/cluster.ts bundled with the
 * Lambdas' esbuild options, so client-node's generated code is cut to GENERATED_CALLS and the
 * models they reach (infra/prune-client-node.ts). Every one of those calls is made here against
 * the real test-bed apiserver, as the broker, and what it answers is checked: a call cut by
 * mistake would be a TypeError, a model missing from the serializer a wrong shape.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { build } from 'esbuild';
import { lambdaEsbuildOptions } from '../../infra/bundling.js';
import type { ClientNodeCluster as Cluster } from '../../lib/adapters/kubernetes/cluster.js';
import type { PlanObject } from '../../lib/domain/plan.js';
import { adminKubeConfig, brokerKubeConfig, eventually, jwtPayload, loadBed, newNamespace, tokenKubeConfig, uniqueSuffix } from '../support/bed.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const bed = loadBed();
const admin = adminKubeConfig();
const adminCore = admin.makeApiClient(k8s.CoreV1Api);
const adminRbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);

let out: string;
let bundle: string;
let broker: Cluster;
const namespaces: string[] = [];
const clusterScoped: { kind: 'ClusterRole' | 'ClusterRoleBinding'; name: string }[] = [];

beforeAll(async () => {
  out = mkdtempSync(path.join(os.tmpdir(), 'kl-pruned-'));
  await build({ ...lambdaEsbuildOptions({ cluster: path.join(ROOT, 'lib/adapters/kubernetes/cluster.ts') }, out), logLevel: 'silent' });
  bundle = readFileSync(path.join(out, 'cluster.mjs'), 'utf8');
  const { ClientNodeCluster } = (await import(pathToFileURL(path.join(out, 'cluster.mjs')).href)) as { ClientNodeCluster: typeof Cluster };
  broker = new ClientNodeCluster(brokerKubeConfig());
}, 120_000);

afterAll(async () => {
  await broker?.close();
  for (const o of clusterScoped) {
    const del = o.kind === 'ClusterRole' ? adminRbac.deleteClusterRole({ name: o.name }) : adminRbac.deleteClusterRoleBinding({ name: o.name });
    await del.catch(() => undefined);
  }
  for (const ns of namespaces) await adminCore.deleteNamespace({ name: ns }).catch(() => undefined);
  rmSync(out, { recursive: true, force: true });
});

const managed = (lease: string, o: Partial<PlanObject> & Pick<PlanObject, 'kind' | 'name'>): PlanObject => ({
  labels: { 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/lease': lease, 'kubelease.io/role': 'pruned' },
  annotations: { 'kubelease.io/expires-at': '2030-01-01T00:00:00Z' },
  ...o,
});

test('the bundle holds the kept calls and models only', () => {
  // method names and the serializer's type names survive minification
  const holds = (text: string) => bundle.includes(text);
  expect({
    tokenRequest: holds('createNamespacedServiceAccountToken'),
    serviceAccountModel: holds('V1ServiceAccount:'),
    policyRuleModel: holds('V1PolicyRule:'),
    podList: holds('listNamespacedPod'),
    podExec: holds('connectGetNamespacedPodExec'),
    podSpecModel: holds('V1PodSpec'),
  }).toEqual({ tokenRequest: true, serviceAccountModel: true, policyRuleModel: true, podList: false, podExec: false, podSpecModel: false });
  expect(Buffer.byteLength(bundle)).toBeLessThan(200_000);
});

test('every kept call works against the apiserver: create, read, token, list, access review, guarded delete', async () => {
  const ns = await newNamespace('kl-pruned', { team: 'pruned' });
  namespaces.push(ns);
  const lease = `l${uniqueSuffix()}`;
  const name = `kl-pruned-${uniqueSuffix()}`;

  // create, one of each kind (createNamespacedServiceAccount … createClusterRoleBinding)
  const sa = await broker.create(managed(lease, { kind: 'ServiceAccount', namespace: ns, name }));
  const owner = { name, uid: sa.uid };
  const secret = await broker.create(managed(lease, { kind: 'Secret', namespace: ns, name: `${name}-anchor` }));
  const rules = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }];
  await broker.create(managed(lease, { kind: 'Role', namespace: ns, name, rules, ownedByServiceAccount: true }), owner);
  await broker.create(
    managed(lease, { kind: 'RoleBinding', namespace: ns, name, roleRef: { kind: 'Role', name }, subject: { namespace: ns, name }, ownedByServiceAccount: true }),
    owner,
  );
  clusterScoped.push({ kind: 'ClusterRole', name }, { kind: 'ClusterRoleBinding', name });
  await broker.create(managed(lease, { kind: 'ClusterRole', name, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }] }));
  await broker.create(managed(lease, { kind: 'ClusterRoleBinding', name, roleRef: { kind: 'ClusterRole', name }, subject: { namespace: ns, name } }));
  const storedRole = await adminRbac.readNamespacedRole({ namespace: ns, name });
  expect(storedRole.rules).toEqual(rules);
  expect(storedRole.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ServiceAccount', name, uid: sa.uid });

  // createNamespacedServiceAccountToken, bound to the Secret: V1TokenRequestStatus with a Date
  const issued = await broker.requestToken({
    namespace: ns,
    serviceAccount: name,
    audiences: [bed.audiences[0] ?? bed.issuer],
    expirationSeconds: 600,
    boundSecret: { name: `${name}-anchor`, uid: secret.uid },
  });
  expect(issued.expiresAt.getTime()).toBe((jwtPayload(issued.token) as { exp: number }).exp * 1000);
  const configmaps = tokenKubeConfig(issued.token).makeApiClient(k8s.CoreV1Api);
  await eventually(async () => expect((await configmaps.listNamespacedConfigMap({ namespace: ns })).kind).toBe('ConfigMapList'), { timeoutMs: 30_000, intervalMs: 200 });

  // readNamespace, readNamespacedServiceAccount, readNamespacedRole, readClusterRole
  expect(await broker.getNamespaceLabels(ns)).toMatchObject({ team: 'pruned' });
  expect(await broker.getNamespaceLabels(`${ns}-absent`)).toBeUndefined();
  expect([await broker.serviceAccountExists(ns, name), await broker.serviceAccountExists(ns, `${name}-absent`)]).toEqual([true, false]);
  expect([await broker.roleExists('Role', name, ns), await broker.roleExists('ClusterRole', name), await broker.roleExists('ClusterRole', `${name}-absent`)]).toEqual([
    true,
    true,
    false,
  ]);

  // the six list calls: every object of this lease, with its uid, labels and creation time
  const listed = (await broker.listManaged()).filter((o) => o.labels['kubelease.io/lease'] === lease);
  expect(listed.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Secret', 'ServiceAccount']);
  expect(listed.find((o) => o.kind === 'ServiceAccount')).toMatchObject({ namespace: ns, name, uid: sa.uid });
  for (const o of listed) expect(o.createdAt).toBeInstanceOf(Date);

  // createSelfSubjectAccessReview
  const checks = await broker.canI([
    { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', namespace: ns },
    { verb: 'delete', group: '', resource: 'nodes' },
  ]);
  expect(checks.map((c) => c.allowed)).toEqual([true, false]);

  // the six guarded deletes (each reads the object first: the read calls of every kind), then absent
  for (const ref of [
    { kind: 'RoleBinding', namespace: ns, name },
    { kind: 'Role', namespace: ns, name },
    { kind: 'Secret', namespace: ns, name: `${name}-anchor` },
    { kind: 'ServiceAccount', namespace: ns, name },
    { kind: 'ClusterRoleBinding', name },
    { kind: 'ClusterRole', name },
  ] as const) {
    expect(await broker.delete(ref, { leaseHash: lease })).toBe('deleted');
    expect(await broker.delete(ref, { leaseHash: lease })).toBe('absent');
  }
  await eventually(async () => expect((await broker.listManaged()).filter((o) => o.labels['kubelease.io/lease'] === lease)).toEqual([]), { timeoutMs: 30_000 });
});

test('a Kubernetes error reaches the caller as the adapter maps it (V1Status kept)', async () => {
  const missing = `kl-pruned-absent-${uniqueSuffix()}`;
  const err = await broker.create(managed('lx', { kind: 'ServiceAccount', namespace: missing, name: 'x' })).then(
    () => undefined,
    (e: unknown) => e as { kind?: string; errors?: string[] },
  );
  expect({ kind: err?.kind, errors: err?.errors }).toEqual({ kind: 'invalid', errors: [`namespace "${missing}" does not exist in the cluster`] });
});
