/**
 * Issue 10 (security hardening), the engine's part, against the recording fake of our own
 * KubeCluster port: role guards (ClusterRoleBinding, audiences), installation ids and what the
 * sweeper may touch, one answer for "absent" and "not yours", guarded orphan deletes, exact
 * sweep counters, and revoking a lease whose token cannot be revoked.
 */
import { FixedClock } from '../../../lib/adapters/memory/index.js';
import {
  checkRole,
  issueCreds,
  listLeases,
  listMounts,
  listRoles,
  revokeLease,
  sweep,
  writeRole,
} from '../../../lib/engine/index.js';
import { failure } from '../../support/failure.js';
import { memoryDeployment, RecordingCluster, type MemoryDeps } from './fake-cluster.js';
import { FAKE_ADMIN as ADMIN, FAKE_CI as CI, FAKE_CI_ROLE as CI_ROLE } from '../../support/fixtures.js';

const OTHER = { arn: 'arn:aws:sts::111111111111:assumed-role/deploy/run-1' };
const START = new Date('2026-11-25T12:00:00Z');

type Deps = MemoryDeps;

/** One deployment of kubelease (its own tables) reaching `cluster`, with mount c1 configured. */
const deployment = async (cluster: RecordingCluster, clock: FixedClock): Promise<Deps> =>
  (await memoryDeployment({ cluster, clock, settings: { orphanGraceSeconds: 60 } })).deps;

let clock: FixedClock;
let cluster: RecordingCluster;
let deps: Deps;

beforeEach(async () => {
  clock = new FixedClock(START);
  cluster = new RecordingCluster(() => clock.now().getTime());
  deps = await deployment(cluster, clock);
});

const role = (name: string, body: Record<string, unknown>, d: Deps = deps) =>
  writeRole(d, { mount: 'c1', name, caller: ADMIN, body: { allowed_kubernetes_namespaces: 'team', allowed_principals: CI_ROLE, ...body } });
const issue = (name: string, body: Record<string, unknown> = {}, caller = CI, d: Deps = deps) =>
  issueCreds(d, { mount: 'c1', roleName: name, caller, body: { kubernetes_namespace: 'team', ...body } });
const deadline = () => new Date(clock.now().getTime() + 60_000);

describe('item 1: ClusterRoleBinding needs allow_cluster_role_binding on the role', () => {
  const editRole = { kubernetes_role_type: 'ClusterRole', kubernetes_role_name: 'edit' };

  test('cluster_role_binding=true on a role without it is a 403 naming the field; nothing is created', async () => {
    await role('edit', editRole);
    const err = await failure(issue('edit', { cluster_role_binding: true }));
    expect(err.status).toBe(403);
    expect(err.message).toContain('allow_cluster_role_binding');
    expect(cluster.calls).toEqual([]);
    expect(deps.leases.items.size).toBe(0);
    // a RoleBinding of the same ClusterRole (the Vault client that never sends the field) still works
    await issue('edit');
    expect(cluster.calls).toContain('create RoleBinding owner=' + [...cluster.objects.values()].find((o) => o.kind === 'ServiceAccount')?.name);
  });

  test('with allow_cluster_role_binding the ClusterRoleBinding is created', async () => {
    await role('edit-wide', { ...editRole, allow_cluster_role_binding: true });
    await issue('edit-wide', { cluster_role_binding: true });
    expect(cluster.calls).toEqual(['create ServiceAccount', 'create ClusterRoleBinding', 'token']);
  });

  test('the field defaults to false, is read back, and needs a ClusterRole', async () => {
    const { readRole } = await import('../../../lib/engine/index.js');
    await role('edit', editRole);
    expect(await readRole(deps, { mount: 'c1', name: 'edit', caller: ADMIN })).toMatchObject({ allow_cluster_role_binding: false });
    const err = await failure(role('pods', { service_account_name: 'default', allow_cluster_role_binding: true }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('allow_cluster_role_binding');
  });

  test('roles check reports it', async () => {
    await role('edit', editRole);
    const refused = await checkRole(deps, { mount: 'c1', name: 'edit', caller: ADMIN, body: { kubernetes_namespace: 'team', cluster_role_binding: true } });
    expect(refused.ok).toBe(false);
    expect(refused.allow_cluster_role_binding).toBe(false);
    expect(refused.notes.join(' ')).toMatch(/allow_cluster_role_binding is false/);
    await role('edit-wide', { ...editRole, allow_cluster_role_binding: true });
    const wide = await checkRole(deps, { mount: 'c1', name: 'edit-wide', caller: ADMIN, body: {} });
    expect(wide.allow_cluster_role_binding).toBe(true);
    expect(wide.notes.join(' ')).toMatch(/every namespace/);
  });
});

describe('item 2: audiences are bounded by allowed_audiences', () => {
  test('by default only the role default audiences (or none = the cluster default) may be requested', async () => {
    await role('sa', { service_account_name: 'default' });
    const sts = await failure(issue('sa', { audiences: 'sts.amazonaws.com' }));
    expect(sts.status).toBe(403);
    expect(sts.message).toContain('"sts.amazonaws.com"');
    expect(sts.message).toContain('allowed_audiences');
    await role('vaultish', { service_account_name: 'default', token_default_audiences: 'vault' });
    await issue('vaultish', { audiences: 'vault' });
    expect((await failure(issue('vaultish', { audiences: 'vault,sts.amazonaws.com' }))).status).toBe(403);
    expect(cluster.calls.filter((c) => c.startsWith('token'))).toHaveLength(1);
  });

  test('allowed_audiences widens the set; the defaults must lie inside it', async () => {
    await role('aud', { service_account_name: 'default', allowed_audiences: 'a,b', token_default_audiences: 'a' });
    await issue('aud', { audiences: 'b' });
    expect((await failure(issue('aud', { audiences: 'c' }))).status).toBe(403);
    const bad = await failure(role('aud2', { service_account_name: 'default', allowed_audiences: 'a', token_default_audiences: 'z' }));
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/token_default_audiences.*"z".*allowed_audiences/);
  });
});

describe('item 3: installations do not sweep each other', () => {
  test('an installation id is created once and shown by GET /v1/mounts; every object carries it', async () => {
    const first = await listMounts(deps, { caller: ADMIN });
    const again = await listMounts(deps, { caller: ADMIN });
    expect(first.installation_id).toMatch(/^[a-z0-9]{16}$/);
    expect(again.installation_id).toBe(first.installation_id);
    expect(first.keys).toEqual(['c1']);
    await role('gen', { generated_role_rules: '{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}' });
    await issue('gen');
    const labels = [...cluster.objects.values()].map((o) => o.labels['kubelease.io/installation']);
    expect(labels).toEqual([first.installation_id, first.installation_id, first.installation_id]);
  });

  test("a second deployment on the same cluster and mount name leaves the first one's live objects alone", async () => {
    const other = await deployment(cluster, clock);
    await role('gen', { generated_role_rules: '{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}' });
    await issue('gen');
    expect(cluster.objects.size).toBe(3);
    clock.advance(600); // past the orphan grace, well before the lease expires
    const report = await sweep(other, { deadline: deadline() });
    expect(report).toMatchObject({ orphansRemoved: 0, failures: [] });
    expect(cluster.objects.size).toBe(3);
    // its own orphans it does remove
    const mine = await listMounts(other, { caller: ADMIN });
    cluster.objects.set('ServiceAccount/team/mine', {
      kind: 'ServiceAccount', namespace: 'team', name: 'mine', annotations: {},
      labels: { 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/lease': 'goneaaaaaaaaaaaaaaaa', 'kubelease.io/mount': 'c1', 'kubelease.io/installation': mine.installation_id },
    });
    expect((await sweep(other, { deadline: deadline() })).orphansRemoved).toBe(1);
    expect(cluster.objects.size).toBe(3);
  });

  test('objects from before the installation label: swept once their expiry passed, or through their lease', async () => {
    const legacy = (name: string, lease: string, expiresAt: Date) =>
      cluster.objects.set(`ServiceAccount/team/${name}`, {
        kind: 'ServiceAccount', namespace: 'team', name,
        labels: { 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/lease': lease, 'kubelease.io/mount': 'c1' },
        annotations: { 'kubelease.io/expires-at': expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z') },
      });
    legacy('live-elsewhere', 'elsewhereaaaaaaaaaaa', new Date(START.getTime() + 3_600_000));
    legacy('dead-anywhere', 'deadaaaaaaaaaaaaaaaa', new Date(START.getTime() - 3_600_000));
    clock.advance(600);
    const report = await sweep(deps, { deadline: deadline() });
    expect(report.orphansRemoved).toBe(1);
    expect([...cluster.objects.keys()]).toEqual(['ServiceAccount/team/live-elsewhere']);
    clock.advance(3600);
    expect((await sweep(deps, { deadline: deadline() })).orphansRemoved).toBe(1);
    expect(cluster.objects.size).toBe(0);
  });
});

describe('item 6: one answer for "absent" and "not yours"', () => {
  test('a broken stored role looks like a missing one to a caller who may not use it', async () => {
    deps.roles.setRaw('c1', 'broken', { allowed_kubernetes_namespaces: ['team'], service_account_name: 'default', token_default_ttl: 7200, token_max_ttl: 3600, allowed_principals: [CI_ROLE] });
    const missing = await failure(issue('nope', {}, OTHER));
    const broken = await failure(issue('broken', {}, OTHER));
    expect(broken.status).toBe(missing.status);
    expect(broken.status).toBe(403);
    expect(broken.message).toBe(missing.message.replace('"nope"', '"broken"'));
    // the role's own callers (and admins) are told why it fails
    expect((await failure(issue('broken', {}, CI))).status).toBe(422);
    expect((await failure(issue('broken', {}, ADMIN))).status).toBe(422);
  });

  test('list paths answer an unknown mount like a known one with nothing visible', async () => {
    expect(await listRoles(deps, { mount: 'nowhere', caller: OTHER })).toEqual({ keys: [] });
    expect(await listLeases(deps, { mount: 'nowhere', caller: OTHER })).toEqual({ keys: [], key_info: {} });
    expect(await listRoles(deps, { mount: 'c1', caller: OTHER })).toEqual({ keys: [] });
    expect((await failure(listRoles(deps, { mount: 'nowhere', caller: ADMIN }))).status).toBe(404);
  });
});

describe('item 11: orphans need the lease label, and every delete is guarded', () => {
  test('a managed object without a lease label is never deleted, however old its expiry', async () => {
    cluster.objects.set('ServiceAccount/team/unlabeled', {
      kind: 'ServiceAccount', namespace: 'team', name: 'unlabeled',
      labels: { 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/mount': 'c1' },
      annotations: { 'kubelease.io/expires-at': '2020-01-01T00:00:00Z' },
    });
    const report = await sweep(deps, { deadline: deadline() });
    expect(report.orphansRemoved).toBe(0);
    expect(cluster.objects.has('ServiceAccount/team/unlabeled')).toBe(true);
    expect(cluster.unguardedDeletes).toBe(0);
  });
});

describe('item 12: sweep counters under concurrency', () => {
  test('every expired lease and deleted object is counted', async () => {
    await role('gen', { generated_role_rules: '{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}' });
    for (let i = 0; i < 5; i++) await issue('gen');
    clock.advance(3601);
    const report = await sweep(deps, { deadline: deadline(), concurrency: 8 });
    expect(report).toMatchObject({ expiredLeases: 5, objectsDeleted: 15, failures: [] });
  });
});

describe('item 13: revoking a lease whose token cannot be revoked says so', () => {
  test('revocable=false: the revoke answer warns that the token stays valid until it expires', async () => {
    await role('plain', { service_account_name: 'default', revocable: false });
    const creds = await issue('plain');
    const res = await revokeLease(deps, { lease_id: creds.lease.lease_id }, CI);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings[0]).toMatch(/stays valid until it expires at 2026-11-25T13:00:00Z/);
    await role('anchored', { service_account_name: 'default' });
    const anchored = await issue('anchored');
    expect((await revokeLease(deps, { lease_id: anchored.lease.lease_id }, CI)).warnings).toEqual([]);
  });
});
