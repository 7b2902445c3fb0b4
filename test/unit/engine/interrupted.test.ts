/**
 * What the reliability suite found in the engine (issue 14): work a fault or a crash cut short
 * is finished by the sweeper, not left until the lease would have expired.
 */
import { deleteConfig, issueCreds, revokeLease, sweep, writeRole } from '../../../lib/engine/index.js';
import { failure } from '../../support/failure.js';
import { FAKE_ADMIN as ADMIN, FAKE_CI as CI } from '../../support/fixtures.js';
import { GEN_ROLE_BODY, memoryDeployment, type MemoryDeps, type RecordingCluster } from './fake-cluster.js';

let cluster: RecordingCluster;
let deps: MemoryDeps;

beforeEach(async () => {
  ({ deps, cluster } = await memoryDeployment());
  await writeRole(deps, { mount: 'c1', name: 'gen', caller: ADMIN, body: GEN_ROLE_BODY });
});

const deadline = () => new Date(deps.clock.now().getTime() + 60_000);

test('a revoke cut short after marking the lease is finished by the next sweep, long before the lease expires', async () => {
  const creds = await issueCreds(deps, { mount: 'c1', roleName: 'gen', caller: CI, body: {} });
  cluster.failOn = (op, kind) => (op === 'delete' && kind === 'ServiceAccount' ? new Error('the cluster is unavailable') : undefined);
  await expect(revokeLease(deps, { lease_id: creds.lease.lease_id }, CI)).rejects.toThrow('unavailable');
  expect((await deps.leases.get(creds.lease.lease_id))?.status).toBe('revoking');
  expect([...cluster.objects.keys()].filter((k) => k.startsWith('ServiceAccount/'))).toHaveLength(1);

  cluster.failOn = undefined;
  deps.clock.advance(60); // one sweep period later: the lease has most of its hour left
  const report = await sweep(deps, { deadline: deadline() });
  expect(report).toMatchObject({ expiredLeases: 0, revokesFinished: 1, failures: [] });
  expect(await deps.leases.get(creds.lease.lease_id)).toBeUndefined();
  expect(cluster.objects.size).toBe(0);
});

test('an active lease is left alone by the same pass', async () => {
  const creds = await issueCreds(deps, { mount: 'c1', roleName: 'gen', caller: CI, body: {} });
  const report = await sweep(deps, { deadline: deadline() });
  expect(report).toMatchObject({ expiredLeases: 0, revokesFinished: 0, orphansRemoved: 0, failures: [] });
  expect((await deps.leases.get(creds.lease.lease_id))?.status).toBe('active');
  expect(cluster.objects.size).toBe(3);
});

describe('a config delete racing an issuance strands nothing', () => {
  // no namespace read any more (issue 13): the last moment before the lease exists is its write
  test('deleted just before the issuance writes its lease: the issuance fails with 404 and leaves no lease or object', async () => {
    const leases = deps.leases;
    const create = leases.create.bind(leases);
    let deletedMidway = false;
    leases.create = async (lease) => {
      if (!deletedMidway) {
        deletedMidway = true;
        await deleteConfig(deps, { mount: 'c1', caller: ADMIN, force: true });
      }
      return create(lease);
    };
    const err = await failure(issueCreds(deps, { mount: 'c1', roleName: 'gen', caller: CI, body: {} }));
    expect(err.status).toBe(404);
    expect(err.message).toBe('mount "c1" was deleted while the token was being issued');
    expect(deps.leases.items.size).toBe(0);
    expect(cluster.objects.size).toBe(0);
  });

  test('an issuance that ran between the delete listing the leases and deleting the config is revoked by the delete', async () => {
    const roles = deps.roles;
    const deleteAll = roles.deleteAll.bind(roles);
    let issued: string | undefined;
    roles.deleteAll = async (mount) => {
      // the delete has listed the live leases (none yet): an issuance completes now
      issued = (await issueCreds(deps, { mount: 'c1', roleName: 'gen', caller: CI, body: {} })).lease.lease_id;
      await deleteAll(mount);
    };
    const { revoked } = await deleteConfig(deps, { mount: 'c1', caller: ADMIN, force: true });
    expect(issued).toBeDefined();
    expect(revoked).toBe(1);
    expect(deps.leases.items.size).toBe(0);
    expect(cluster.objects.size).toBe(0);
  });
});

describe('a revoke racing an issuance strands nothing (one-write issuance, issue 13)', () => {
  /** revokes the issuance's lease (as its caller) just before the cluster sees `kind` created */
  const revokeBeforeCreating = (kind: string) => {
    const create = cluster.create.bind(cluster);
    let revoked: Awaited<ReturnType<typeof revokeLease>> | undefined;
    cluster.create = async (o, owner) => {
      if (o.kind === kind && revoked === undefined) {
        const [leaseId] = [...deps.leases.items.keys()];
        if (leaseId === undefined) throw new Error('the lease is written before or while the objects are created');
        revoked = await revokeLease(deps, { lease_id: leaseId }, CI);
      }
      return create(o, owner);
    };
    return () => revoked;
  };

  test.each(['ServiceAccount', 'Role', 'RoleBinding'])('revoked while the issuance creates its %s: a 502 saying so, no token, no object, no lease', async (kind) => {
    const revoked = revokeBeforeCreating(kind);
    const err = await failure(issueCreds(deps, { mount: 'c1', roleName: 'gen', caller: CI, body: {} }));
    expect(revoked()).toBeDefined();
    expect({ status: err.status, message: err.message }).toEqual({
      status: 502,
      message: 'the lease was revoked or ended while the token was being issued; no token was issued; try again',
    });
    expect(deps.leases.items.size).toBe(0);
    expect([...cluster.objects.keys()]).toEqual([]);
  });

  test('revoked between the TokenRequest and the answer: the issuance withdraws the token it got', async () => {
    const requestToken = cluster.requestToken.bind(cluster);
    cluster.requestToken = async (spec) => {
      const token = await requestToken(spec);
      const [leaseId] = [...deps.leases.items.keys()];
      await revokeLease(deps, { lease_id: leaseId as string }, CI);
      return token;
    };
    const err = await failure(issueCreds(deps, { mount: 'c1', roleName: 'gen', caller: CI, body: {} }));
    expect(err.status).toBe(502);
    expect(deps.leases.items.size).toBe(0);
    expect([...cluster.objects.keys()]).toEqual([]);
  });
});
