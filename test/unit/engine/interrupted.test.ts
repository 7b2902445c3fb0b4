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
  test('deleted while the issuance checks the namespace: the issuance fails with 404 and leaves no lease or object', async () => {
    const check = cluster.getNamespaceLabels.bind(cluster);
    let deletedMidway = false;
    cluster.getNamespaceLabels = async (name) => {
      const labels = await check(name);
      if (!deletedMidway) {
        deletedMidway = true;
        await deleteConfig(deps, { mount: 'c1', caller: ADMIN, force: true });
      }
      return labels;
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
