/** The local stack's crash-point knob (lib/local/crash-points.ts), with a recording `crash`. */
import { FixedClock, MemoryConfigStore, MemoryLeaseStore, MemoryRoleStore } from '../../../lib/adapters/memory/index.js';
import { randomIds } from '../../../lib/adapters/random-ids.js';
import { defaultSettings, issueCreds, revokeLease, writeConfig, writeRole, type EngineDeps } from '../../../lib/engine/index.js';
import { parseCrashSpec, withCrashPoints } from '../../../lib/local/crash-points.js';
import { factoryOf, RecordingCluster } from '../engine/fake-cluster.js';

const ADMIN = { arn: 'arn:aws:iam::111111111111:user/admin' };
const CI = { arn: 'arn:aws:sts::111111111111:assumed-role/ci/run-1' };

async function engine(): Promise<EngineDeps> {
  const deps: EngineDeps = {
    configs: new MemoryConfigStore(),
    roles: new MemoryRoleStore(),
    leases: new MemoryLeaseStore(),
    kube: factoryOf(new RecordingCluster()),
    clock: new FixedClock(new Date()),
    ids: randomIds,
    settings: { ...defaultSettings, adminPrincipals: [ADMIN.arn] },
  };
  await writeConfig(deps, { mount: 'c1', caller: ADMIN, body: { kubernetes_host: 'https://127.0.0.1:6443', service_account_jwt: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' } });
  await writeRole(deps, {
    mount: 'c1',
    name: 'gen',
    caller: ADMIN,
    body: { allowed_kubernetes_namespaces: 'team', generated_role_rules: '{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}', allowed_principals: 'arn:aws:iam::111111111111:role/ci' },
  });
  return deps;
}

test('without the variable the deps are untouched', async () => {
  const deps = await engine();
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
  const base = await engine();
  const cluster = new RecordingCluster();
  base.kube = factoryOf(cluster);
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
  const base = await engine();
  const creds = await issueCreds(base, { mount: 'c1', roleName: 'gen', caller: CI, body: {} });
  const hits: string[] = [];
  const d = withCrashPoints(base, 'kube.delete.Role#1', (s) => void hits.push(s));
  await revokeLease(d, { lease_id: creds.lease.lease_id }, CI);
  expect(hits).toEqual(['kube.delete.Role']);
  expect(parseCrashSpec('kube.create.RoleBinding#2')).toEqual({ step: 'kube.create.RoleBinding', nth: 2 });
  expect(() => parseCrashSpec('rm -rf')).toThrow('KUBELEASE_CRASH_AFTER');
});
