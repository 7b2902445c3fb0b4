/**
 * Issuance cost on the real test bed, measured side by side in one run:
 *  - per mode (existing SA + anchor Secret, bind role, generated role): issue → revoke latency;
 *  - the executor's parallel creation vs the same plan created one object at a time.
 * Prints medians and ratios; asserts nothing about absolute time.
 */
import * as k8s from '@kubernetes/client-node';
import { randomIds } from '../../lib/adapters/random-ids.js';
import { buildPlan, leaseHash, newLeaseId, parseStoredRole } from '../../lib/domain/index.js';
import { createPlanObjects, deletePlanObjects, issueCreds, revokeLease } from '../../lib/engine/index.js';
import type { TestBedInfo } from '../../lib/local/testbed/index.js';
import { ADMIN, bedEngine } from '../support/engine.js';

const ROUNDS = Number(process.env.KUBELEASE_BENCH_ROUNDS ?? 8);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function runIssueBench(bed: TestBedInfo, print: (line: string) => void = console.log): Promise<void> {
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(bed.admin.kubeconfigPath);
  const namespace = `kl-bench-${Date.now().toString(36)}`;
  await admin.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'deployer' } } });
  await admin.makeApiClient(k8s.RbacAuthorizationV1Api).createNamespacedRole({
    namespace,
    body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
  });

  const engine = await bedEngine('bench', bed);
  const { deps, mount } = engine;
  const roles: Record<string, Record<string, unknown>> = {
    'existing-sa': { service_account_name: 'deployer' },
    'bind-role': { kubernetes_role_name: 'pod-reader' },
    generated: { generated_role_rules: 'rules:\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["list"]\n' },
  };
  for (const [name, body] of Object.entries(roles)) {
    await engine.role(name, { allowed_kubernetes_namespaces: namespace, ...body });
  }

  // warm-up: TLS connection, caches
  await revokeLease(deps, { lease_id: (await issueCreds(deps, { mount, roleName: 'generated', caller: ADMIN, body: {} })).lease.lease_id }, ADMIN);

  const issueMs: Record<string, number[]> = {};
  const revokeMs: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const role of Object.keys(roles)) {
      let leaseId = '';
      (issueMs[role] ??= []).push(
        await timed(async () => {
          leaseId = (await issueCreds(deps, { mount, roleName: role, caller: ADMIN, body: {} })).lease.lease_id;
        }),
      );
      (revokeMs[role] ??= []).push(await timed(() => revokeLease(deps, { lease_id: leaseId }, ADMIN)));
    }
  }

  const config = await deps.configs.get(mount);
  if (!config) throw new Error('config vanished');
  const kube = await deps.kube.forCluster(config);
  const role = parseStoredRole(mount, 'generated', (await deps.roles.get(mount, 'generated')) ?? {});
  const plan = () => {
    const id = newLeaseId(mount, 'generated', randomIds.random);
    return buildPlan({
      mount,
      role,
      namespace,
      clusterRoleBinding: false,
      ttl: 600,
      audiences: [],
      leaseHash: leaseHash(id),
      generatedName: `kl-bench-${randomIds.random(8)}`,
      expiresAt: new Date(Date.now() + 600_000),
    });
  };
  const parallel: number[] = [];
  const sequential: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const a = plan();
    parallel.push(await timed(() => createPlanObjects(kube, a)));
    await deletePlanObjects(kube, a.objects, { leaseHash: a.objects[0]?.labels['kubelease.io/lease'] ?? '' });
    const b = plan();
    sequential.push(
      await timed(async () => {
        for (const o of b.objects) await kube.create(o);
      }),
    );
    await deletePlanObjects(kube, b.objects, { leaseHash: b.objects[0]?.labels['kubelease.io/lease'] ?? '' });
  }

  const base = median(issueMs['existing-sa'] ?? []);
  print(`\nissue/revoke on the real apiserver, ${ROUNDS} rounds, median ms (ratio to existing-sa issue)`);
  print('mode          issue    revoke   issue ratio');
  for (const r of Object.keys(roles)) {
    const i = median(issueMs[r] ?? []);
    print(`${r.padEnd(13)} ${i.toFixed(1).padStart(6)}   ${median(revokeMs[r] ?? []).toFixed(1).padStart(6)}   ${(i / base).toFixed(2)}x`);
  }
  const p = median(parallel);
  const s = median(sequential);
  print(`\nexecutor, generated plan (SA, Role, RoleBinding): parallel ${p.toFixed(1)} ms vs sequential ${s.toFixed(1)} ms → sequential/parallel = ${(s / p).toFixed(2)}x`);
  await admin.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: namespace });
}
