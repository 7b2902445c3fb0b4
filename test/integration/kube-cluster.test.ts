/**
 * ClientNodeCluster against the real test-bed apiserver (v1.20), acting as the broker
 * (kubelease-system/kubelease-broker, RBAC from deploy/kubernetes/broker-rbac.yaml). The admin
 * identity only arranges fixtures and checks results. Latencies are printed at the end.
 */
import net from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { ClientNodeCluster } from '../../lib/adapters/kubernetes/cluster.js';
import { KubeleaseError } from '../../lib/domain/errors.js';
import type { PlanObject } from '../../lib/domain/plan.js';
import {
  adminKubeConfig,
  brokerKubeConfig,
  eventually,
  jwtPayload,
  loadBed,
  newNamespace,
  statusOf,
  tokenKubeConfig,
  uniqueSuffix,
} from '../support/bed.js';

/** per-test timeout (ESM jest has no global `jest.setTimeout`) */
const SLOW = 120_000;

const bed = loadBed();
const AUD = [bed.audiences[0] ?? bed.issuer];
const measured: string[] = [];
const note = (line: string) => measured.push(line);

const admin = adminKubeConfig();
const adminCore = admin.makeApiClient(k8s.CoreV1Api);
const adminRbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);

const broker = new ClientNodeCluster(brokerKubeConfig());
const others: ClientNodeCluster[] = [];
const clusterScoped: PlanObject[] = [];
const namespaces: string[] = [];
/** admin-made cluster-scoped fixtures: ClusterRole / ClusterRoleBinding names */
const fixtures: { clusterRoles: string[]; clusterRoleBindings: string[] } = { clusterRoles: [], clusterRoleBindings: [] };

afterAll(async () => {
  for (const o of clusterScoped) await broker.delete(o, { leaseHash: o.labels['kubelease.io/lease'] ?? '' }).catch(() => undefined);
  for (const ns of namespaces) await adminCore.deleteNamespace({ name: ns }).catch(() => undefined);
  for (const name of fixtures.clusterRoleBindings) await adminRbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
  for (const name of fixtures.clusterRoles) await adminRbac.deleteClusterRole({ name }).catch(() => undefined);
  await Promise.all([broker, ...others].map((c) => c.close()));
  if (measured.length) process.stderr.write(`\n[kube-cluster timings]\n${measured.map((m) => `  ${m}`).join('\n')}\n`);
});

async function ns(prefix = 'kl-kube', labels: Record<string, string> = {}): Promise<string> {
  const name = await newNamespace(prefix, labels);
  namespaces.push(name);
  return name;
}

function managed(lease: string, extra: Partial<PlanObject> & Pick<PlanObject, 'kind' | 'name'>): PlanObject {
  return {
    labels: { 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/lease': lease, 'kubelease.io/role': 'ci' },
    annotations: { 'kubelease.io/expires-at': '2030-01-01T00:00:00Z' },
    ...extra,
  };
}

async function kubeError(p: Promise<unknown>): Promise<KubeleaseError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof KubeleaseError)) throw new Error(`expected a KubeleaseError, got ${String(e)}`);
  return e;
}

/** status of a SelfSubjectAccessReview with `token`: 201-ish (ok) ⇔ the token authenticates */
async function authenticates(token: string): Promise<number> {
  try {
    await tokenKubeConfig(token)
      .makeApiClient(k8s.AuthorizationV1Api)
      .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'default' } } } });
    return 200;
  } catch (e) {
    const s = statusOf(e);
    if (s === undefined) throw e;
    return s;
  }
}

async function listPodsStatus(token: string, namespace?: string): Promise<number> {
  const core = tokenKubeConfig(token).makeApiClient(k8s.CoreV1Api);
  try {
    await (namespace ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces());
    return 200;
  } catch (e) {
    const s = statusOf(e);
    if (s === undefined) throw e;
    return s;
  }
}

const gone = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw e;
  }
  throw new Error('still there');
};

describe('ClientNodeCluster as the broker', () => {
  it('generated SA + Role + RoleBinding (owned by the SA): the token lists pods only in its namespace; deleting the SA kills it and GC takes the rest', async () => {
    const target = await ns();
    const elsewhere = await ns();
    const lease = `l${uniqueSuffix()}`;
    const name = `kl-ci-${uniqueSuffix()}`;

    const sa = await broker.create(managed(lease, { kind: 'ServiceAccount', namespace: target, name }));
    const owner = { name, uid: sa.uid };
    const role = managed(lease, {
      kind: 'Role',
      namespace: target,
      name,
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
      ownedByServiceAccount: true,
    });
    const binding = managed(lease, {
      kind: 'RoleBinding',
      namespace: target,
      name,
      roleRef: { kind: 'Role', name },
      subject: { namespace: target, name },
      ownedByServiceAccount: true,
    });
    const t0 = Date.now();
    await Promise.all([broker.create(role, owner), broker.create(binding, owner)]);
    note(`create Role + RoleBinding in parallel: ${Date.now() - t0} ms`);

    // what the apiserver stored
    const storedSa = await adminCore.readNamespacedServiceAccount({ namespace: target, name });
    expect(storedSa.automountServiceAccountToken).toBe(false);
    expect(storedSa.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/lease': lease });
    expect(storedSa.metadata?.annotations?.['kubelease.io/expires-at']).toBe('2030-01-01T00:00:00Z');
    expect(storedSa.metadata?.ownerReferences).toBeUndefined();
    const storedRb = await adminRbac.readNamespacedRoleBinding({ namespace: target, name });
    expect(storedRb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
    expect(storedRb.subjects).toEqual([{ kind: 'ServiceAccount', name, namespace: target }]);
    const expectedOwner = { apiVersion: 'v1', kind: 'ServiceAccount', name, uid: sa.uid, blockOwnerDeletion: false };
    expect(storedRb.metadata?.ownerReferences).toEqual([expectedOwner]);
    const storedRole = await adminRbac.readNamespacedRole({ namespace: target, name });
    expect(storedRole.metadata?.ownerReferences).toEqual([expectedOwner]);
    expect(storedRole.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);

    const before = Date.now();
    const issued = await broker.requestToken({ namespace: target, serviceAccount: name, audiences: AUD, expirationSeconds: 600 });
    const claims = jwtPayload(issued.token) as { exp: number; aud: string[]; sub: string };
    expect(claims.sub).toBe(`system:serviceaccount:${target}:${name}`);
    expect(claims.aud).toEqual(AUD);
    // the reported expiry is the token's real one (TokenRequest status = JWT exp)
    expect(issued.expiresAt.getTime()).toBe(claims.exp * 1000);
    expect(Math.abs(issued.expiresAt.getTime() - (before + 600_000))).toBeLessThan(15_000);

    const t1 = Date.now();
    await eventually(async () => expect(await listPodsStatus(issued.token, target)).toBe(200), { timeoutMs: 30_000, intervalMs: 200 });
    note(`RBAC propagation (binding → token can list pods): ${Date.now() - t1} ms`);
    expect(await listPodsStatus(issued.token, elsewhere)).toBe(403);
    expect(await listPodsStatus(issued.token)).toBe(403);

    // modes 2/3 revoke: deleting the generated SA kills the token; GC removes the owned Role/Binding
    const t2 = Date.now();
    expect(await broker.delete({ kind: 'ServiceAccount', namespace: target, name }, { leaseHash: lease })).toBe('deleted');
    await Promise.all([
      eventually(async () => expect(await authenticates(issued.token)).toBe(401), { timeoutMs: 60_000, intervalMs: 250 }).then(() =>
        note(`SA deleted → its token rejected (401): ${Date.now() - t2} ms`),
      ),
      eventually(
        async () => {
          await gone(() => adminRbac.readNamespacedRoleBinding({ namespace: target, name }));
          await gone(() => adminRbac.readNamespacedRole({ namespace: target, name }));
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      ).then(() => note(`SA deleted → GC removed the owned Role + RoleBinding: ${Date.now() - t2} ms`)),
    ]);
    expect(await broker.delete({ kind: 'ServiceAccount', namespace: target, name }, { leaseHash: lease })).toBe('absent');
    expect(await broker.delete({ kind: 'RoleBinding', namespace: target, name }, { leaseHash: lease })).toBe('absent');
  }, SLOW);

  it('a token bound to an anchor Secret dies when the Secret is deleted; the ServiceAccount stays', async () => {
    const target = await ns();
    const saName = `existing-${uniqueSuffix()}`; // mode 1: an admin-made ServiceAccount
    await adminCore.createNamespacedServiceAccount({ namespace: target, body: { metadata: { name: saName } } });
    const lease = `l${uniqueSuffix()}`;
    const anchorName = `kl-anchor-${uniqueSuffix()}`;

    const anchor = await broker.create(managed(lease, { kind: 'Secret', namespace: target, name: anchorName }));
    const stored = await adminCore.readNamespacedSecret({ namespace: target, name: anchorName });
    expect(stored.type).toBe('Opaque');
    expect(stored.data ?? {}).toEqual({});
    expect(stored.metadata?.uid).toBe(anchor.uid);

    const issued = await broker.requestToken({
      namespace: target,
      serviceAccount: saName,
      audiences: AUD,
      expirationSeconds: 3600,
      boundSecret: { name: anchorName, uid: anchor.uid },
    });
    const claims = jwtPayload(issued.token) as { 'kubernetes.io'?: { secret?: unknown } };
    expect(claims['kubernetes.io']?.secret).toEqual({ name: anchorName, uid: anchor.uid });
    expect(await authenticates(issued.token)).toBe(200);

    const t0 = Date.now();
    expect(await broker.delete({ kind: 'Secret', namespace: target, name: anchorName }, { leaseHash: lease })).toBe('deleted');
    await eventually(async () => expect(await authenticates(issued.token)).toBe(401), { timeoutMs: 60_000, intervalMs: 250 });
    note(`anchor Secret deleted → bound token rejected (401): ${Date.now() - t0} ms`);

    expect(await broker.serviceAccountExists(target, saName)).toBe(true);
    expect(await broker.delete({ kind: 'Secret', namespace: target, name: anchorName }, { leaseHash: lease })).toBe('absent');
  }, SLOW);

  it('listManaged finds labeled objects across namespaces and cluster-scoped ones, nothing else', async () => {
    const [a, b] = [await ns(), await ns()];
    const lease = `l${uniqueSuffix()}`;
    const n = `kl-list-${uniqueSuffix()}`;
    const objects: PlanObject[] = [];
    for (const space of [a, b]) {
      objects.push(
        managed(lease, { kind: 'ServiceAccount', namespace: space, name: n }),
        managed(lease, { kind: 'Secret', namespace: space, name: n }),
        managed(lease, { kind: 'Role', namespace: space, name: n, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] }),
        managed(lease, { kind: 'RoleBinding', namespace: space, name: n, roleRef: { kind: 'Role', name: n }, subject: { namespace: space, name: n } }),
      );
    }
    const cr = managed(lease, { kind: 'ClusterRole', name: n, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] });
    const crb = managed(lease, { kind: 'ClusterRoleBinding', name: n, roleRef: { kind: 'ClusterRole', name: n }, subject: { namespace: a, name: n } });
    clusterScoped.push(crb, cr);
    objects.push(cr, crb);
    for (const o of objects) await broker.create(o);
    // an unlabeled ServiceAccount is not ours
    await adminCore.createNamespacedServiceAccount({ namespace: a, body: { metadata: { name: `${n}-foreign`, labels: { 'kubelease.io/lease': lease } } } });

    const t0 = Date.now();
    const found = (await broker.listManaged()).filter((m) => m.labels['kubelease.io/lease'] === lease);
    note(`listManaged (6 kinds, label selector): ${Date.now() - t0} ms`);
    // pagination: pages of 1 give the same answer
    const paged = new ClientNodeCluster(brokerKubeConfig(), { pageSize: 1 });
    others.push(paged);
    const pagedFound = (await paged.listManaged()).filter((m) => m.labels['kubelease.io/lease'] === lease);
    expect(pagedFound.map((o) => `${o.kind}/${o.namespace ?? '-'}/${o.name}`).sort()).toEqual(found.map((o) => `${o.kind}/${o.namespace ?? '-'}/${o.name}`).sort());
    const key = (o: { kind: string; namespace?: string; name: string }) => `${o.kind}/${o.namespace ?? '-'}/${o.name}`;
    expect(found.map(key).sort()).toEqual(objects.map(key).sort());
    const foundCr = found.find((f) => f.kind === 'ClusterRole');
    expect(foundCr?.namespace).toBeUndefined();
    expect(foundCr?.annotations['kubelease.io/expires-at']).toBe('2030-01-01T00:00:00Z');
    expect(found.every((f) => f.labels['app.kubernetes.io/managed-by'] === 'kubelease')).toBe(true);

    for (const o of [...objects].reverse()) expect(await broker.delete(o, { leaseHash: lease })).toBe('deleted');
    expect((await broker.listManaged()).filter((m) => m.labels['kubelease.io/lease'] === lease)).toEqual([]);
  }, SLOW);

  it('a delete given what a listing saw sends that uid: a replaced object and one the listing saw unlabeled are left alone (issue 13)', async () => {
    const target = await ns();
    const lease = `l${uniqueSuffix()}`;
    const [kept, replaced, unlabeled] = ['kept', 'replaced', 'unlabeled'].map((n) => managed(lease, { kind: 'ServiceAccount', namespace: target, name: `kl-seen-${n}` })) as [PlanObject, PlanObject, PlanObject];
    for (const o of [kept, replaced, unlabeled]) await broker.create(o);
    const listed = (await broker.listManaged()).filter((m) => m.labels['kubelease.io/lease'] === lease);
    const seen = (o: PlanObject) => {
      const m = listed.find((l) => l.name === o.name);
      return { uid: m?.uid ?? '', labels: m?.labels ?? {} };
    };
    expect(listed.map((m) => /^[0-9a-f-]{36}$/.test(m.uid ?? '')).sort()).toEqual([true, true, true]);

    // replaced after the listing: same name, same labels, another uid
    await adminCore.deleteNamespacedServiceAccount({ name: replaced.name, namespace: target });
    await broker.create(replaced);
    expect(await broker.delete(replaced, { leaseHash: lease }, seen(replaced))).toBe('absent');
    expect((await adminCore.readNamespacedServiceAccount({ name: replaced.name, namespace: target })).metadata?.labels?.['kubelease.io/lease']).toBe(lease);
    // labels judged as seen: without the lease label it is not the lease's, whatever it carries now
    expect(await broker.delete(unlabeled, { leaseHash: lease }, { uid: seen(unlabeled).uid, labels: {} })).toBe('absent');
    await adminCore.readNamespacedServiceAccount({ name: unlabeled.name, namespace: target });
    // the object seen is deleted
    expect(await broker.delete(kept, { leaseHash: lease }, seen(kept))).toBe('deleted');
    await expect(adminCore.readNamespacedServiceAccount({ name: kept.name, namespace: target })).rejects.toMatchObject({ code: 404 });
    for (const o of [replaced, unlabeled]) expect(await broker.delete(o, { leaseHash: lease })).toBe('deleted');
  }, SLOW);

  it('binds a ClusterRole granting more than the broker holds only thanks to `bind`; without it the 403 is explained', async () => {
    const target = await ns();
    const sfx = uniqueSuffix();
    // fixture: a ClusterRole with permissions the broker lacks (nodes, pods/exec)
    const powerful = `kl-test-powerful-${sfx}`;
    fixtures.clusterRoles.push(powerful);
    await adminRbac.createClusterRole({
      body: {
        metadata: { name: powerful },
        rules: [
          { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] },
          { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
        ],
      },
    });
    expect((await broker.canI([{ verb: 'list', group: '', resource: 'nodes' }]))[0]?.allowed).toBe(false);

    const saName = `kl-bind-${sfx}`;
    const sa = await broker.create(managed(sfx, { kind: 'ServiceAccount', namespace: target, name: saName }));
    const rb = managed(sfx, {
      kind: 'RoleBinding',
      namespace: target,
      name: saName,
      roleRef: { kind: 'ClusterRole', name: powerful },
      subject: { namespace: target, name: saName },
      ownedByServiceAccount: true,
    });
    await broker.create(rb, { name: saName, uid: sa.uid }); // the broker holds `bind` on clusterroles

    // the same request from an identity with the broker's rules minus bind/escalate (and minus secrets)
    const limited = await limitedBroker(target, sfx);
    const err = await kubeError(limited.create({ ...rb, name: `${saName}-2` }));
    expect(err.kind).toBe('upstream');
    expect(err.message).toMatch(
      new RegExp(`^the broker cannot create rolebinding "${saName}-2" in namespace "${target}": it would grant permissions the broker does not hold itself, and the broker lacks the "bind" verb on the referenced role \\(Kubernetes: `),
    );
    note(`bind refusal message: ${err.message.slice(0, 260)}…`);

    // same for a generated Role with rules beyond its own: needs `escalate`
    const roleErr = await kubeError(
      limited.create(managed(sfx, { kind: 'Role', namespace: target, name: `esc-${sfx}`, rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }] })),
    );
    expect(roleErr.kind).toBe('upstream');
    expect(roleErr.message).toContain('lacks the "escalate" verb on roles');
    // ...which the real broker holds
    await broker.create(managed(sfx, { kind: 'Role', namespace: target, name: `esc-${sfx}`, rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }] }));
  }, SLOW);

  it('a 403 (an install that did not grant secrets: anchor Secret creation) maps to a clear upstream message without secrets', async () => {
    const target = await ns();
    const sfx = uniqueSuffix();
    const limited = await limitedBroker(target, sfx);
    const err = await kubeError(limited.create(managed(sfx, { kind: 'Secret', namespace: target, name: `anchor-${sfx}` })));
    expect(err.kind).toBe('upstream');
    expect(err.status).toBe(502);
    expect(err.message).toMatch(new RegExp(`^the broker lacks permission to create secrets in namespace "${target}" \\(Kubernetes: secrets is forbidden: User "system:serviceaccount:${target}:limited-${sfx}" cannot create resource "secrets"`));
    expect(err.message).not.toMatch(/eyJ|Bearer|HTTP-Code|Headers/);
    note(`403 message: ${err.message}`);

    // listManaged tolerates an install without secrets rights (warns), fails on nothing else
    const warnings: string[] = [];
    const quiet = new ClientNodeCluster(limited.kc, { onWarning: (m) => warnings.push(m) });
    others.push(quiet);
    await eventually(async () => {
      warnings.length = 0;
      await quiet.listManaged();
      expect(warnings.join()).toContain('skipping secrets');
    });
  }, SLOW);

  it('canI answers with SelfSubjectAccessReviews, in parallel', async () => {
    const target = await ns();
    const checks = [
      { verb: 'create', group: '', resource: 'serviceaccounts', namespace: target },
      { verb: 'list', group: '', resource: 'nodes' },
      { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', namespace: target },
      { verb: 'bind', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
      { verb: 'create', group: '', resource: 'pods', namespace: target },
    ];
    const many = Array.from({ length: 20 }, (_, i) => checks[i % checks.length]!);
    const t0 = Date.now();
    const res = await broker.canI(many);
    note(`canI, 20 SelfSubjectAccessReviews (concurrency 8): ${Date.now() - t0} ms`);
    expect(res.slice(0, 5).map((r) => r.allowed)).toEqual([true, false, true, true, false]);
    expect(res[0]).toMatchObject({ verb: 'create', resource: 'serviceaccounts', namespace: target, allowed: true });
    expect(res[0]?.reason).toMatch(/RBAC: allowed by ClusterRoleBinding "kubelease-broker"/);
    expect(res.map((r) => r.allowed)).toEqual(many.map((_, i) => [true, false, true, true, false][i % 5]));
  }, SLOW);

  it('maps apiserver refusals: TokenRequest < 600 s, missing SA / namespace, AlreadyExists, invalid names', async () => {
    const target = await ns();
    const name = `kl-err-${uniqueSuffix()}`;
    await broker.create(managed(name, { kind: 'ServiceAccount', namespace: target, name }));

    const short = await kubeError(broker.requestToken({ namespace: target, serviceAccount: name, audiences: AUD, expirationSeconds: 599 }));
    expect(short.kind).toBe('invalid');
    expect(short.message).toMatch(/10 minutes|expirationSeconds/);
    note(`TokenRequest 599 s → ${short.kind}: ${short.message}`);

    const noSa = await kubeError(broker.requestToken({ namespace: target, serviceAccount: 'nope', audiences: AUD, expirationSeconds: 600 }));
    expect(noSa.kind).toBe('invalid');
    expect(noSa.message).toBe(`service account "nope" does not exist in namespace "${target}"`);

    const noNs = await kubeError(broker.create(managed(name, { kind: 'ServiceAccount', namespace: `missing-${uniqueSuffix()}`, name })));
    expect(noNs.kind).toBe('invalid');
    expect(noNs.message).toMatch(/^namespace "missing-[0-9a-f]+" does not exist in the cluster$/);

    const dup = await kubeError(broker.create(managed(name, { kind: 'ServiceAccount', namespace: target, name })));
    expect(dup.kind).toBe('conflict');
    expect(dup.message).toBe(`serviceaccount "${name}" already exists in namespace "${target}"`);

    const bad = await kubeError(broker.create(managed(name, { kind: 'ServiceAccount', namespace: target, name: 'Not_DNS' })));
    expect(bad.kind).toBe('invalid');
    expect(bad.errors[0]).toMatch(/metadata.name: .*Not_DNS/);
    note(`422 → ${bad.kind}: ${bad.errors.join(' | ')}`);
  }, SLOW);

  it('reads: namespace labels, SA and role existence (404 → undefined/false)', async () => {
    const target = await ns('kl-kube', { team: 'blue' });
    expect(await broker.getNamespaceLabels(target)).toMatchObject({ team: 'blue', 'kubelease.io/test': 'true' });
    expect(await broker.getNamespaceLabels(`missing-${uniqueSuffix()}`)).toBeUndefined();
    expect(await broker.serviceAccountExists(target, 'default')).toBe(true);
    expect(await broker.serviceAccountExists(target, 'nope')).toBe(false);
    expect(await broker.roleExists('ClusterRole', 'kubelease-broker')).toBe(true);
    expect(await broker.roleExists('ClusterRole', `nope-${uniqueSuffix()}`)).toBe(false);
    expect(await broker.roleExists('Role', 'nope', target)).toBe(false);
    await adminRbac.createNamespacedRole({ namespace: target, body: { metadata: { name: 'reader' }, rules: [] } });
    expect(await broker.roleExists('Role', 'reader', target)).toBe(true);
  }, SLOW);
});

describe('ClientNodeCluster transport', () => {
  it('fromConnection with a tokenSource asks for the token on every request; a rejected token maps to 401 upstream', async () => {
    let calls = 0;
    const viaProvider = ClientNodeCluster.fromConnection({
      server: bed.apiserver.url,
      caPem: bed.apiserver.caPem,
      tokenSource: {
        token: async () => {
          calls++;
          return bed.broker.token;
        },
        invalidate: () => {},
      },
    });
    others.push(viaProvider);
    expect(await viaProvider.serviceAccountExists(bed.broker.namespace, bed.broker.serviceAccount)).toBe(true);
    expect(await viaProvider.roleExists('ClusterRole', 'kubelease-broker')).toBe(true);
    expect(calls).toBe(2);

    const rejected = ClientNodeCluster.fromConnection({ server: bed.apiserver.url, caPem: bed.apiserver.caPem, tokenSource: { token: async () => 'not-a-valid-token', invalidate: () => {} } });
    others.push(rejected);
    const err = await kubeError(rejected.getNamespaceLabels('default'));
    expect(err.kind).toBe('upstream');
    expect(err.message).toMatch(/^the cluster rejected the broker's credentials \(401 Unauthorized\)/);
    expect(err.message).not.toContain('not-a-valid-token');
  }, SLOW);

  it('a wrong CA is a TLS error naming kubernetes_ca_cert', async () => {
    const wrongCa = ClientNodeCluster.fromConnection({ server: bed.apiserver.url, caPem: bed.admin.clientCertPem, token: bed.broker.token });
    others.push(wrongCa);
    const err = await kubeError(wrongCa.getNamespaceLabels('default'));
    expect(err.kind).toBe('upstream');
    expect(err.message).toMatch(/^TLS verification of the cluster at 127\.0\.0\.1:\d+ failed \(\w+\): check kubernetes_ca_cert/);
    note(`wrong CA → ${err.message}`);
  }, SLOW);

  it('a silent server times out as unavailable; a closed port is unavailable', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // accepts, never answers the TLS handshake
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const hung = ClientNodeCluster.fromConnection({ server: `https://127.0.0.1:${port}`, caPem: bed.apiserver.caPem, token: 't', timeoutMs: 800 });
      others.push(hung);
      const t0 = Date.now();
      const err = await kubeError(hung.serviceAccountExists('default', 'default'));
      const took = Date.now() - t0;
      expect(err.kind).toBe('unavailable');
      expect(err.message).toBe(`the cluster at 127.0.0.1:${port} did not answer within 0.8 s (get serviceaccounts)`);
      expect(took).toBeGreaterThanOrEqual(700);
      expect(took).toBeLessThan(5_000);
      note(`silent server, timeoutMs 800 → unavailable after ${took} ms`);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
    const closed = ClientNodeCluster.fromConnection({ server: `https://127.0.0.1:${port}`, caPem: bed.apiserver.caPem, token: 't' });
    others.push(closed);
    const refused = await kubeError(closed.listManaged());
    expect(refused.kind).toBe('unavailable');
    expect(refused.message).toBe(`cannot reach the cluster at 127.0.0.1:${port} (ECONNREFUSED)`);
  }, SLOW);
});

/**
 * An identity with the broker's permissions minus `bind`/`escalate` and minus secrets, as an admin
 * might install a stricter broker: test setup only (admin creates it, the test acts as it).
 */
async function limitedBroker(namespace: string, sfx: string): Promise<ClientNodeCluster & { kc: k8s.KubeConfig }> {
  const name = `limited-${sfx}`;
  fixtures.clusterRoles.push(`kl-test-${name}`);
  fixtures.clusterRoleBindings.push(`kl-test-${name}`);
  await adminCore.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await adminRbac.createClusterRole({
    body: {
      metadata: { name: `kl-test-${name}` },
      rules: [
        { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'create', 'delete'] },
        { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'], verbs: ['get', 'list', 'create', 'delete'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] },
      ],
    },
  });
  await adminRbac.createClusterRoleBinding({
    body: {
      metadata: { name: `kl-test-${name}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `kl-test-${name}` },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const tr = await adminCore.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: AUD, expirationSeconds: 3600 } } });
  const kc = tokenKubeConfig(tr.status?.token ?? '', name);
  const cluster = Object.assign(new ClientNodeCluster(kc), { kc });
  others.push(cluster);
  // wait until its RBAC is in effect
  await eventually(async () => expect(await cluster.roleExists('ClusterRole', `kl-test-${name}`)).toBe(true), { timeoutMs: 30_000, intervalMs: 200 });
  return cluster;
}
