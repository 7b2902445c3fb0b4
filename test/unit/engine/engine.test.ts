import type { FixedClock, MemoryLeaseStore } from '../../../lib/adapters/memory/index.js';
import { failure } from '../../support/failure.js';
import {
  deleteConfig,
  issueCreds,
  listLeases,
  listMounts,
  lookupLease,
  requiredPermissions,
  revokeLease,
  incompleteLeases,
  sweep,
  writeConfig,
  writeRole,
  type EngineDeps,
} from '../../../lib/engine/index.js';
import { GEN_ROLE_BODY, memoryDeployment, type RecordingCluster } from './fake-cluster.js';
import { FAKE_ADMIN as ADMIN, FAKE_CI as CI, FAKE_JWT as JWT } from '../../support/fixtures.js';

const CI_NEXT_RUN = { arn: 'arn:aws:sts::111111111111:assumed-role/ci/run-2' };
const OTHER = { arn: 'arn:aws:sts::111111111111:assumed-role/deploy/run-1' };

let cluster: RecordingCluster;
let deps: EngineDeps & { leases: MemoryLeaseStore; clock: FixedClock };

beforeEach(async () => {
  ({ deps, cluster } = await memoryDeployment());
  await writeRole(deps, {
    mount: 'c1',
    name: 'gen',
    caller: ADMIN,
    body: GEN_ROLE_BODY,
  });
  await writeRole(deps, {
    mount: 'c1',
    name: 'sa',
    caller: ADMIN,
    body: { allowed_kubernetes_namespaces: 'team', service_account_name: 'default', allowed_principals: 'arn:aws:iam::111111111111:role/ci' },
  });
});

const installation = async () => (await listMounts(deps, { caller: ADMIN })).installation_id;
const issue = (role = 'gen', caller = CI, body: Record<string, unknown> = {}) =>
  issueCreds(deps, { mount: 'c1', roleName: role, caller, body });

describe('issueCreds', () => {
  test('owners first, then role and binding with ownerReferences, then the token; lease active with the token expiry', async () => {
    const creds = await issue();
    expect(cluster.calls).toEqual(['create ServiceAccount', expect.stringMatching(/^create Role/), expect.stringMatching(/^create RoleBinding/), 'token']);
    expect(cluster.calls.filter((c) => c.includes('owner=')).length).toBe(2);
    const stored = await deps.leases.get(creds.lease.lease_id);
    expect(stored?.status).toBe('active');
    expect(stored?.expires_at).toBe(Math.floor(deps.clock.now().getTime() / 1000) + 3600);
  });

  test('mode 1 creates only the anchor Secret and binds the token to it', async () => {
    await issue('sa');
    expect(cluster.calls).toEqual(['create Secret', 'token bound']);
  });

  test('a TokenRequest failure deletes every created object in order and the pending lease', async () => {
    cluster.failOn = (op) => (op === 'token' ? new Error('boom') : undefined);
    await expect(issue()).rejects.toThrow('boom');
    expect(cluster.calls.slice(-3)).toEqual(['delete RoleBinding', 'delete Role', 'delete ServiceAccount']);
    expect(cluster.objects.size).toBe(0);
    expect(deps.leases.items.size).toBe(0);
  });

  test('an AlreadyExists on the ServiceAccount deletes nothing: the existing object is not ours', async () => {
    cluster.failOn = (op, kind) => (op === 'create' && kind === 'ServiceAccount' ? new Error('already exists') : undefined);
    await expect(issue()).rejects.toThrow('already exists');
    expect(cluster.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    expect(deps.leases.items.size).toBe(0);
  });

  test('revoke leaves alone an object of the same name that another lease owns', async () => {
    const creds = await issue();
    const sa = [...cluster.objects.values()].find((o) => o.kind === 'ServiceAccount');
    if (!sa) throw new Error('no SA');
    sa.labels = { ...sa.labels, 'kubelease.io/lease': 'someone-else' };
    const { deleted } = await revokeLease(deps, { lease_id: creds.lease.lease_id }, ADMIN);
    expect(deleted).toBe(2);
    expect([...cluster.objects.values()].map((o) => o.kind)).toEqual(['ServiceAccount']);
  });

  test('a token expiry a second off the one asked for (a second boundary, a clock step) is the lease the caller gets; the stored item keeps its one write', async () => {
    const realToken = cluster.requestToken.bind(cluster);
    const asked = Math.floor(deps.clock.now().getTime() / 1000) + 3600;
    cluster.requestToken = async (spec) => ({ ...(await realToken(spec)), expiresAt: new Date((asked - 1) * 1000) });
    const writes: string[] = [];
    const realTransition = deps.leases.transition.bind(deps.leases);
    deps.leases.transition = async (...args) => {
      writes.push('transition');
      return realTransition(...args);
    };
    const creds = await issue();
    expect({ expires_at: creds.lease.expires_at, leaseDuration: creds.leaseDuration, writes }).toEqual({ expires_at: asked - 1, leaseDuration: 3599, writes: [] });
    expect((await deps.leases.get(creds.lease.lease_id))?.expires_at).toBe(asked);
  });

  test('if the lease was ended while the token was being issued (seen when the apiserver caps the expiry and the lease follows it), the token is not handed out', async () => {
    const realToken = cluster.requestToken.bind(cluster);
    cluster.requestToken = async (spec) => ({ ...(await realToken(spec)), expiresAt: new Date(deps.clock.now().getTime() + 1800_000) });
    const realTransition = deps.leases.transition.bind(deps.leases);
    deps.leases.transition = async () => false;
    const err = await failure(issue());
    deps.leases.transition = realTransition;
    expect(err.kind).toBe('upstream');
    expect(cluster.objects.size).toBe(0);
  });

  test('missing existing ServiceAccount → the TokenRequest 404 is a 400 naming the field; nothing is left', async () => {
    cluster.serviceAccounts.clear();
    const err = await failure(issue('sa'));
    expect(err.status).toBe(400);
    expect(err.message).toBe('service_account_name: ServiceAccount "default" does not exist in namespace "team"');
    expect(cluster.calls).toEqual(['create Secret', 'token bound', 'delete Secret']);
    expect(cluster.objects.size).toBe(0);
    expect(deps.leases.items.size).toBe(0);
  });

  test('a namespace allowed by name is not read: the create 404 is the same 400 naming kubernetes_namespace; nothing is left', async () => {
    await writeRole(deps, { mount: 'c1', name: 'anyns', caller: ADMIN, body: { allowed_kubernetes_namespaces: '*', generated_role_rules: '{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}', allowed_principals: 'arn:aws:iam::111111111111:role/ci' } });
    const err = await failure(issue('anyns', CI, { kubernetes_namespace: 'gone' }));
    expect(err.status).toBe(400);
    expect(err.message).toBe('kubernetes_namespace: namespace "gone" does not exist in the cluster');
    expect(cluster.calls).toEqual(['create ServiceAccount']);
    expect(deps.leases.items.size).toBe(0);
  });

  test('one lease write, with the final expiry, before the token; status active from the start', async () => {
    const writes: string[] = [];
    const realCreate = deps.leases.create.bind(deps.leases);
    deps.leases.create = async (lease) => {
      writes.push(`create ${lease.status} ${lease.expires_at - lease.issued_at}`);
      await realCreate(lease);
    };
    deps.leases.transition = async () => {
      writes.push('transition');
      return true;
    };
    await issue('gen', CI, { ttl: '2h' });
    expect(writes).toEqual(['create active 7200']);
  });
});

describe('leases', () => {
  test('owner sessions of the same role may look up and revoke; another principal gets 404; admins may', async () => {
    const creds = await issue();
    const body = { lease_id: creds.lease.lease_id };
    expect((await lookupLease(deps, body, CI_NEXT_RUN)).role).toBe('gen');
    expect((await failure(lookupLease(deps, body, OTHER))).status).toBe(404);
    expect((await failure(revokeLease(deps, body, OTHER))).status).toBe(404);
    expect((await revokeLease(deps, body, ADMIN)).deleted).toBe(3);
    expect(deps.leases.items.size).toBe(0);
    expect((await failure(revokeLease(deps, body, ADMIN))).status).toBe(404);
  });

  test('lists show callers their own leases and admins all', async () => {
    await issue();
    const mine = await listLeases(deps, { mount: 'c1', caller: CI_NEXT_RUN });
    expect(mine.keys).toHaveLength(1);
    expect((await listLeases(deps, { mount: 'c1', caller: OTHER })).keys).toEqual([]);
    expect((await listLeases(deps, { mount: 'c1', caller: ADMIN, role: 'sa' })).keys).toEqual([]);
  });

  test('config delete is a 409 while leases live, force revokes them', async () => {
    await issue();
    expect((await failure(deleteConfig(deps, { mount: 'c1', caller: ADMIN, force: false }))).status).toBe(409);
    expect((await deleteConfig(deps, { mount: 'c1', caller: ADMIN, force: true })).revoked).toBe(1);
    expect(cluster.objects.size).toBe(0);
  });
});

describe('sweep', () => {
  test('an issuance that died before its objects all existed: the sweeper ends its lease after pendingGraceSeconds, not before', async () => {
    deps.settings = { ...deps.settings, pendingGraceSeconds: 120 };
    // the binding's create and every rollback call fail: what a crash after the Role leaves
    cluster.failOn = (op, kind) => ((op === 'create' && kind === 'RoleBinding') || op === 'delete' ? new Error('killed') : undefined);
    await expect(issue()).rejects.toThrow('killed');
    cluster.failOn = undefined;
    expect([...cluster.objects.values()].map((o) => o.kind).sort()).toEqual(['Role', 'ServiceAccount']);
    const [lease] = [...deps.leases.items.values()];
    expect(lease?.status).toBe('active');
    const deadline = () => new Date(deps.clock.now().getTime() + 60_000);
    deps.clock.advance(deps.settings.pendingGraceSeconds);
    expect((await sweep(deps, { deadline: deadline() })).incompleteLeases).toBe(0);
    deps.clock.advance(2);
    const report = await sweep(deps, { deadline: deadline() });
    expect(report).toMatchObject({ incompleteLeases: 1, expiredLeases: 0, failures: [] });
    expect(cluster.objects.size).toBe(0);
    expect(deps.leases.items.size).toBe(0);
  });

  test('a complete lease is left alone by the incomplete-lease pass; kinds the broker may not list count as present', async () => {
    const creds = await issue('sa');
    deps.clock.advance(deps.settings.pendingGraceSeconds + 10);
    expect((await sweep(deps, { deadline: new Date(deps.clock.now().getTime() + 60_000) })).incompleteLeases).toBe(0);
    const noSecrets = Object.assign([], { skippedKinds: ['Secret'] as const });
    const now = Math.floor(deps.clock.now().getTime() / 1000);
    expect(incompleteLeases([creds.lease], noSecrets, { now, graceSeconds: 10, unlisted: noSecrets.skippedKinds })).toEqual([]);
    expect(incompleteLeases([creds.lease], [], { now, graceSeconds: 10, unlisted: [] })).toEqual([creds.lease]);
  });

  test('expires leases whose time passed and orphans without a lease, within the deadline', async () => {
    await issue();
    deps.clock.advance(3601 * 1000);
    cluster.objects.set('ServiceAccount/team/stray', {
      kind: 'ServiceAccount',
      namespace: 'team',
      name: 'stray',
      labels: { 'kubelease.io/lease': 'nolease', 'kubelease.io/mount': 'c1', 'kubelease.io/installation': await installation() },
      annotations: {},
    });
    const report = await sweep(deps, { deadline: new Date(deps.clock.now().getTime() + 60_000) });
    expect(report).toMatchObject({ expiredLeases: 1, objectsDeleted: 3, orphansRemoved: 1, failures: [], outOfTime: false });
    expect(cluster.objects.size).toBe(0);
  });

  test('a passed deadline stops before touching anything', async () => {
    await issue();
    deps.clock.advance(3601 * 1000);
    const report = await sweep(deps, { deadline: new Date(0) });
    expect(report.outOfTime).toBe(true);
    expect(report.expiredLeases).toBe(0);
  });

  test('leaves young unlabeled-lease objects alone (issue in flight)', async () => {
    cluster.objects.set('ServiceAccount/team/young', {
      kind: 'ServiceAccount', namespace: 'team', name: 'young',
      labels: { 'kubelease.io/lease': 'inflight', 'kubelease.io/mount': 'c1', 'kubelease.io/installation': await installation() }, annotations: {},
      createdAt: deps.clock.now(),
    });
    const report = await sweep(deps, { deadline: new Date(deps.clock.now().getTime() + 60_000) });
    expect(report.orphansRemoved).toBe(0);
  });
});

describe('requiredPermissions', () => {
  test('per mode', async () => {
    const { parseStoredRole } = await import('../../../lib/domain/index.js');
    const gen = parseStoredRole('c1', 'gen', (await deps.roles.get('c1', 'gen')) ?? {});
    const verbs = requiredPermissions(gen, 'team', false).map((n) => `${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ''}`);
    expect(verbs).toEqual(expect.arrayContaining(['create serviceaccounts', 'create serviceaccounts/token', 'create rolebindings', 'escalate roles', 'bind roles']));
    const sa = parseStoredRole('c1', 'sa', (await deps.roles.get('c1', 'sa')) ?? {});
    expect(requiredPermissions(sa, 'team', false).map((n) => n.resource)).toEqual(['serviceaccounts', 'secrets', 'secrets']);
  });
});

describe('mount lifecycle', () => {
  test('re-pointing a mount at another cluster is a 409 while leases live; rotating its credentials is fine', async () => {
    await issue();
    const moved = await failure(writeConfig(deps, { mount: 'c1', caller: ADMIN, body: { kubernetes_host: 'https://10.0.0.9:6443' } }));
    expect(moved.status).toBe(409);
    expect(moved.message).toMatch(/kubernetes_host.*live lease/);
    await writeConfig(deps, { mount: 'c1', caller: ADMIN, body: { service_account_jwt: JWT.replace('c2ln', 'bmV3') } });
  });

  test('deleting a mount deletes its roles, so a reused mount name starts empty', async () => {
    await deleteConfig(deps, { mount: 'c1', caller: ADMIN, force: false });
    expect(await deps.roles.list('c1')).toEqual([]);
  });

  test('a non-admin cannot tell a missing role from a forbidden one', async () => {
    const missing = await failure(issue('no-such-role', OTHER));
    const forbiddenRole = await failure(issue('gen', OTHER));
    expect([missing.status, forbiddenRole.status]).toEqual([403, 403]);
    expect((await failure(issue('no-such-role', ADMIN))).status).toBe(404);
  });
});
