/** The local stack's crash-point knob (lib/local/crash-points.ts), with a recording `crash`. */
import { issueCreds, revokeLease, writeRole, type EngineDeps } from '../../../lib/engine/index.js';
import { parseCrashSpec, withCrashPoints } from '../../../lib/local/crash-points.js';
import { FAKE_ADMIN as ADMIN, FAKE_CI as CI } from '../../support/fixtures.js';
import { GEN_ROLE_BODY, memoryDeployment, type RecordingCluster } from '../engine/fake-cluster.js';

async function engine(): Promise<{ deps: EngineDeps; cluster: RecordingCluster }> {
  const { deps, cluster } = await memoryDeployment();
  await writeRole(deps, { mount: 'c1', name: 'gen', caller: ADMIN, body: GEN_ROLE_BODY });
  return { deps, cluster };
}

test('without the variable the deps are untouched', async () => {
  const { deps } = await engine();
  expect(withCrashPoints(deps, undefined)).toBe(deps);
  expect(withCrashPoints(deps, '')).toBe(deps);
});

test.each([
  // the lease is written once, active, beside the creates (which a frozen lease write does not stop)
  ['lease.create', 'active', ['Role', 'RoleBinding', 'ServiceAccount']],
  ['kube.create.ServiceAccount', 'active', ['ServiceAccount']],
  // the binding is created beside the role: it was in flight when the process died
  ['kube.create.Role', 'active', ['Role', 'RoleBinding', 'ServiceAccount']],
  ['kube.create.RoleBinding', 'active', ['Role', 'RoleBinding', 'ServiceAccount']],
  ['kube.token', 'active', ['Role', 'RoleBinding', 'ServiceAccount']],
])('an issuance stops right after %s: lease %s, objects %j', async (step, status, kinds) => {
  const { deps: base, cluster } = await engine();
  let frozen: (step: string) => void = () => undefined;
  const reached = new Promise<string>((resolve) => (frozen = resolve));
  // the process stops at the step: nothing after it runs, no rollback
  const deps = withCrashPoints(base, step, (s) => {
    frozen(s);
    return new Promise<never>(() => undefined);
  });
  void issueCreds(deps, { mount: 'c1', roleName: 'gen', caller: CI, body: {} });
  expect(await reached).toBe(step);
  await new Promise((r) => setImmediate(r)); // parallel creates started before the crash finish
  const leases = await base.leases.listByMount('c1');
  expect(leases.map((l) => l.status)).toEqual([status]);
  expect([...cluster.objects.values()].map((o) => o.kind).sort()).toEqual(kinds);
});

test('revoke steps, and #n picks the n-th occurrence', async () => {
  const { deps: base } = await engine();
  const creds = await issueCreds(base, { mount: 'c1', roleName: 'gen', caller: CI, body: {} });
  const hits: string[] = [];
  const d = withCrashPoints(base, 'kube.delete.Role#1', (s) => void hits.push(s));
  await revokeLease(d, { lease_id: creds.lease.lease_id }, CI);
  expect(hits).toEqual(['kube.delete.Role']);
  expect(parseCrashSpec('kube.create.RoleBinding#2')).toEqual({ step: 'kube.create.RoleBinding', nth: 2 });
  expect(() => parseCrashSpec('rm -rf')).toThrow('KUBELEASE_CRASH_AFTER');
});
