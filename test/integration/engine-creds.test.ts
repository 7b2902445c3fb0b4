/**
 * The engine against the real apiserver, acting as the broker identity: every mode, what the
 * token can really do, revocation, rollback, namespace rules and TTLs.
 */
import { failure } from '../support/failure.js';
import * as k8s from '@kubernetes/client-node';
import { issueCreds, revokeLease, type IssuedCreds } from '../../lib/engine/index.js';
import type { KubeClientFactory, KubeCluster } from '../../lib/ports.js';
import { adminKubeConfig, eventually, jwtPayload, newNamespace } from '../support/bed.js';
import { bedEngine, CI, STRANGER, type BedEngine } from '../support/engine.js';
import { exists, listPods, listSecrets, objectsOfLease, whoIs } from '../support/kube-probes.js';


let env: BedEngine;
let ns: string;
let otherNs: string;
const rbac = () => adminKubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);

async function issue(role: string, body: Record<string, unknown> = {}): Promise<IssuedCreds> {
  return issueCreds(env.deps, { mount: env.mount, roleName: role, caller: CI, body: { kubernetes_namespace: ns, ...body } });
}


const revoke = (c: IssuedCreds) => revokeLease(env.deps, { lease_id: c.lease.lease_id }, CI);
const tokenOf = (c: IssuedCreds) => c.data.service_account_token;

beforeAll(async () => {
  env = await bedEngine();
  ns = await newNamespace('kl-engine');
  otherNs = await newNamespace('kl-other');
  await rbac().createNamespacedRole({
    namespace: ns,
    body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'get'] }] },
  });
  await rbac().createClusterRole({
    body: { metadata: { name: `kl-test-pod-reader-${ns}` }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
  });
});

describe('mode 1: existing ServiceAccount', () => {
  test('token authenticates as the SA with the requested audiences and expiry; revoke kills it, SA stays', async () => {
    await env.role('existing', { allowed_kubernetes_namespaces: [ns], service_account_name: 'default', allowed_audiences: ['kubelease-test'] });
    const creds = await issue('existing', { ttl: '20m', audiences: 'kubelease-test' });
    expect(creds.data.service_account_name).toBe('default');
    expect(creds.data.service_account_namespace).toBe(ns);
    const claims = jwtPayload(tokenOf(creds));
    expect(claims.aud).toEqual(['kubelease-test']);
    const now = Date.now() / 1000;
    expect(claims.exp as number).toBeGreaterThan(now + 1200 - 60);
    expect(claims.exp as number).toBeLessThanOrEqual(now + 1200 + 5);
    expect(creds.leaseDuration).toBeGreaterThan(1200 - 60);
    expect(creds.lease.expires_at).toBe(claims.exp);
    expect(await whoIs(tokenOf(creds), ['kubelease-test'])).toBe(`system:serviceaccount:${ns}:default`);

    const anchors = await objectsOfLease(creds.lease.lease_hash);
    expect(anchors).toEqual([`Secret/${creds.lease.plan.objects[0]?.name}`]);

    await revoke(creds);
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([]);
    await eventually(async () => expect(await whoIs(tokenOf(creds), ['kubelease-test'])).toBeUndefined(), { timeoutMs: 90_000, intervalMs: 1000 });
    expect(await exists('ServiceAccount', 'default', ns)).toBe(true);
    expect(await env.deps.leases.get(creds.lease.lease_id)).toBeUndefined();
  });

  test('revocable=false issues an unbound token and warns that revoke cannot kill it', async () => {
    await env.role('existing-plain', { allowed_kubernetes_namespaces: [ns], service_account_name: 'default', revocable: false });
    const creds = await issue('existing-plain');
    expect(creds.warnings.join(' ')).toMatch(/not revocable/);
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([]);
    expect(await whoIs(tokenOf(creds))).toBe(`system:serviceaccount:${ns}:default`);
    await revoke(creds);
  });

  test('a ServiceAccount that does not exist is a 400 before anything is created', async () => {
    await env.role('ghost-sa', { allowed_kubernetes_namespaces: [ns], service_account_name: 'nobody-here' });
    const err = await failure(issue('ghost-sa'));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/service_account_name.*nobody-here/);
    expect(env.deps.leases.items.size).toBe(0);
  });
});

describe('mode 2: bind an existing role', () => {
  test('Role: token lists pods only in its namespace, not secrets; revoke deletes SA + binding and kills the token', async () => {
    await env.role('bind-role', { allowed_kubernetes_namespaces: [ns], kubernetes_role_name: 'pod-reader' });
    const creds = await issue('bind-role');
    expect(creds.data.service_account_name).toMatch(/^kl-bind-role-[a-z0-9]{10}$/);
    const token = tokenOf(creds);
    await eventually(async () => expect(await listPods(token, ns)).toBe('allowed'));
    expect(await listSecrets(token, ns)).toBe('forbidden');
    expect(await listPods(token, otherNs)).toBe('forbidden');
    const objects = await objectsOfLease(creds.lease.lease_hash);
    expect(objects).toEqual([`RoleBinding/${creds.data.service_account_name}`, `ServiceAccount/${creds.data.service_account_name}`]);

    await revoke(creds);
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([]);
    await eventually(async () => expect(await listPods(token, ns)).toBe('unauthenticated'), { timeoutMs: 90_000, intervalMs: 1000 });
  });

  test('ClusterRole with cluster_role_binding=true grants across namespaces; a Role with it is a 400', async () => {
    await env.role('bind-cluster', {
      allowed_kubernetes_namespaces: [ns],
      kubernetes_role_name: `kl-test-pod-reader-${ns}`,
      kubernetes_role_type: 'ClusterRole',
      allow_cluster_role_binding: true,
    });
    const creds = await issue('bind-cluster', { cluster_role_binding: true });
    await eventually(async () => expect(await listPods(tokenOf(creds), otherNs)).toBe('allowed'));
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([
      `ClusterRoleBinding/${creds.data.service_account_name}`,
      `ServiceAccount/${creds.data.service_account_name}`,
    ]);
    await revoke(creds);
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([]);

    const err = await failure(issue('bind-role', { cluster_role_binding: true }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/cluster_role_binding/);
  });

  test('ClusterRole bound by a RoleBinding grants only in the namespace', async () => {
    const creds = await issue('bind-cluster');
    await eventually(async () => expect(await listPods(tokenOf(creds), ns)).toBe('allowed'));
    expect(await listPods(tokenOf(creds), otherNs)).toBe('forbidden');
    await revoke(creds);
  });
});

describe('mode 3: generated role', () => {
  test.each([
    ['yaml', 'rules:\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["list"]\n'],
    ['json', JSON.stringify({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] })],
  ])('rules as %s: SA + Role + RoleBinding, ownerReferences to the SA, exact permissions', async (kind, rules) => {
    await env.role(`gen-${kind}`, { allowed_kubernetes_namespaces: [ns], generated_role_rules: rules, extra_labels: { team: 'ci' } });
    const creds = await issue(`gen-${kind}`);
    const name = creds.data.service_account_name;
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([`Role/${name}`, `RoleBinding/${name}`, `ServiceAccount/${name}`]);
    const role = await rbac().readNamespacedRole({ name, namespace: ns });
    expect(role.metadata?.labels).toMatchObject({ team: 'ci', 'app.kubernetes.io/managed-by': 'kubelease', 'kubelease.io/role': `gen-${kind}` });
    expect(Date.parse(role.metadata?.annotations?.['kubelease.io/expires-at'] ?? '')).toBeGreaterThan(Date.now());
    expect(role.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ServiceAccount', name });
    const token = tokenOf(creds);
    await eventually(async () => expect(await listPods(token, ns)).toBe('allowed'));
    expect(await listSecrets(token, ns)).toBe('forbidden');
    expect(await listPods(token, otherNs)).toBe('forbidden');
    await revoke(creds);
    expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([]);
    await eventually(async () => expect(await whoIs(token)).toBeUndefined(), { timeoutMs: 90_000, intervalMs: 1000 });
  });

  test('a template name that collides with an existing ServiceAccount fails without deleting it', async () => {
    await adminKubeConfig()
      .makeApiClient(k8s.CoreV1Api)
      .createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'fixed-name' } } });
    await env.role('fixed-name', {
      allowed_kubernetes_namespaces: [ns],
      kubernetes_role_name: 'pod-reader',
      name_template: '{{ .RoleName }}',
    });
    const err = await failure(issue('fixed-name'));
    expect(err.status).toBe(409);
    expect(await exists('ServiceAccount', 'fixed-name', ns)).toBe(true);
    expect([...env.deps.leases.items.values()].filter((l) => l.role === 'fixed-name')).toEqual([]);
  });

  test('a failure after the ServiceAccount exists leaves no object and no lease behind', async () => {
    const real = env.deps.kube;
    let failedLease = '';
    const failingBinding: KubeClientFactory = {
      forCluster: async (config) => {
        const kube = await real.forCluster(config);
        const wrapped: KubeCluster = Object.create(kube) as KubeCluster;
        wrapped.create = async (obj, owner) => {
          if (obj.kind === 'RoleBinding') {
            failedLease = obj.labels['kubelease.io/lease'] ?? '';
            throw new Error('injected failure after the ServiceAccount was created');
          }
          return kube.create(obj, owner);
        };
        return wrapped;
      },
    };
    env.deps.kube = failingBinding;
    try {
      await expect(issue('gen-yaml')).rejects.toThrow(/injected failure/);
    } finally {
      env.deps.kube = real;
    }
    expect(failedLease).not.toBe('');
    expect(await objectsOfLease(failedLease)).toEqual([]);
    expect([...env.deps.leases.items.values()].filter((l) => l.lease_hash === failedLease)).toEqual([]);
  });
});

describe('namespaces, principals and TTLs', () => {
  test('selector-allowed namespace works; a non-matching one is refused; a missing one is a 400', async () => {
    const labeled = await newNamespace('kl-sel', { stage: 'ci' });
    await env.role('by-selector', {
      allowed_kubernetes_namespace_selector: 'matchLabels:\n  stage: ci\n',
      service_account_name: 'default',
    });
    await eventually(async () => expect(await exists('ServiceAccount', 'default', labeled)).toBe(true));
    const creds = await issue('by-selector', { kubernetes_namespace: labeled });
    expect(creds.data.service_account_namespace).toBe(labeled);
    await revoke(creds);

    const refused = await failure(issue('by-selector', { kubernetes_namespace: otherNs }));
    expect(refused.status).toBe(400);
    expect(refused.message).toMatch(new RegExp(`kubernetes_namespace.*${otherNs}`));
    const missing = await failure(issue('existing', { kubernetes_namespace: 'does-not-exist-anywhere' }));
    expect(missing.status).toBe(400);
  });

  test('ttl below the 600 s floor is a 400; above the role max is capped with a warning', async () => {
    await env.role('short', { allowed_kubernetes_namespaces: [ns], service_account_name: 'default', token_max_ttl: '15m' });
    const low = await failure(issue('short', { ttl: '5m' }));
    expect(low.status).toBe(400);
    expect(low.message).toMatch(/ttl.*600/);
    const capped = await issue('short', { ttl: '2h' });
    expect(capped.warnings.join(' ')).toMatch(/token_max_ttl/);
    const exp = jwtPayload(tokenOf(capped)).exp as number;
    expect(exp - Date.now() / 1000).toBeLessThanOrEqual(900 + 5);
    expect(exp - Date.now() / 1000).toBeGreaterThan(900 - 60);
    await revoke(capped);
  });

  test('a principal outside allowed_principals gets 403 and nothing is created', async () => {
    const before = env.deps.leases.items.size;
    const err = await failure(
      issueCreds(env.deps, { mount: env.mount, roleName: 'bind-role', caller: STRANGER, body: { kubernetes_namespace: ns } }),
    );
    expect(err.status).toBe(403);
    expect(env.deps.leases.items.size).toBe(before);
  });
});
