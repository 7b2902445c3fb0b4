import {
  ANNOTATION_EXPIRES_AT,
  buildPlan,
  deletionOrder,
  LABEL_LEASE,
  LABEL_MANAGED_BY,
  LABEL_MOUNT,
  LABEL_ROLE,
  MANAGED_LABEL_SELECTOR,
  mergeRole,
  type Role,
} from '../../../lib/domain/index.js';
import type { BuildPlanInput } from '../../../lib/domain/build-plan.js';
import { expectInvalid } from './helpers.js';

const RULES = 'rules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: [list]';
const expiresAt = new Date('2025-06-01T12:00:00.123Z');
const base = { allowed_kubernetes_namespaces: '*', extra_labels: { team: 'a' }, extra_annotations: { note: 'n' } };
const roles = {
  sa: mergeRole('ci@Team.x', undefined, { ...base, service_account_name: 'deployer' }),
  saNoRevoke: mergeRole('r', undefined, { ...base, service_account_name: 'deployer', revocable: false }),
  bindRole: mergeRole('r', undefined, { ...base, kubernetes_role_name: 'edit' }),
  bindCluster: mergeRole('r', undefined, { ...base, kubernetes_role_name: 'view', kubernetes_role_type: 'ClusterRole', allow_cluster_role_binding: true }),
  genRole: mergeRole('r', undefined, { ...base, generated_role_rules: RULES }),
  genCluster: mergeRole('r', undefined, { ...base, generated_role_rules: RULES, kubernetes_role_type: 'ClusterRole', allow_cluster_role_binding: true }),
};
const input = (role: Role, clusterRoleBinding = false): BuildPlanInput => ({
  mount: 'prod',
  role,
  namespace: 'apps',
  clusterRoleBinding,
  ttl: 1800,
  audiences: ['aud'],
  leaseHash: 'abc123',
  installation: 'inst0123456789ab',
  generatedName: 'kl-r-xyz',
  expiresAt,
});
const kinds = (i: BuildPlanInput) => buildPlan(i).objects.map((o) => `${o.kind}${o.namespace ? `/${o.namespace}` : ''}/${o.name}`);

describe('objects per mode', () => {
  test('mode 1, revocable: anchor Secret; token bound to it for the existing SA', () => {
    const plan = buildPlan(input(roles.sa));
    expect(kinds(input(roles.sa))).toEqual(['Secret/apps/kl-r-xyz']);
    expect(plan.token).toEqual({ serviceAccount: { namespace: 'apps', name: 'deployer' }, audiences: ['aud'], expirationSeconds: 1800, boundSecret: 'kl-r-xyz' });
    expect(plan.objects[0]!.ownedByServiceAccount).toBeUndefined();
  });
  test('mode 1, not revocable: no objects, unbound token', () => {
    const plan = buildPlan(input(roles.saNoRevoke));
    expect(plan.objects).toEqual([]);
    expect(plan.token.boundSecret).toBeUndefined();
    expect(plan.token.serviceAccount).toEqual({ namespace: 'apps', name: 'deployer' });
  });
  test('mode 1 with cluster_role_binding on a Role-type role → invalid', () => {
    expectInvalid(() => buildPlan(input(roles.sa, true)), 'cluster_role_binding: ', 'ClusterRole');
  });
  test('mode 2, Role: SA + RoleBinding → Role', () => {
    const plan = buildPlan(input(roles.bindRole));
    expect(kinds(input(roles.bindRole))).toEqual(['ServiceAccount/apps/kl-r-xyz', 'RoleBinding/apps/kl-r-xyz']);
    expect(plan.objects[1]).toMatchObject({ roleRef: { kind: 'Role', name: 'edit' }, subject: { namespace: 'apps', name: 'kl-r-xyz' }, ownedByServiceAccount: true });
    expect(plan.objects[0]!.ownedByServiceAccount).toBeUndefined();
    expect(plan.token).toEqual({ serviceAccount: { namespace: 'apps', name: 'kl-r-xyz' }, audiences: ['aud'], expirationSeconds: 1800 });
  });
  test('mode 2, Role + cluster_role_binding → invalid', () => {
    expectInvalid(() => buildPlan(input(roles.bindRole, true)), 'cluster_role_binding: a ClusterRoleBinding needs', 'has Role');
  });
  test('mode 2, ClusterRole: RoleBinding → ClusterRole (namespace-scoped grant)', () => {
    const plan = buildPlan(input(roles.bindCluster));
    expect(kinds(input(roles.bindCluster))).toEqual(['ServiceAccount/apps/kl-r-xyz', 'RoleBinding/apps/kl-r-xyz']);
    expect(plan.objects[1]!.roleRef).toEqual({ kind: 'ClusterRole', name: 'view' });
  });
  test('mode 2, ClusterRole + cluster_role_binding: ClusterRoleBinding, not owned', () => {
    const plan = buildPlan(input(roles.bindCluster, true));
    expect(kinds(input(roles.bindCluster, true))).toEqual(['ServiceAccount/apps/kl-r-xyz', 'ClusterRoleBinding/kl-r-xyz']);
    expect(plan.objects[1]).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'view' }, subject: { namespace: 'apps', name: 'kl-r-xyz' } });
    expect(plan.objects[1]!.ownedByServiceAccount).toBeUndefined();
    expect(plan.objects[1]!.namespace).toBeUndefined();
  });
  test('mode 3, Role: SA + Role(rules) + RoleBinding', () => {
    const plan = buildPlan(input(roles.genRole));
    expect(kinds(input(roles.genRole))).toEqual(['ServiceAccount/apps/kl-r-xyz', 'Role/apps/kl-r-xyz', 'RoleBinding/apps/kl-r-xyz']);
    expect(plan.objects[1]).toMatchObject({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }], ownedByServiceAccount: true });
    expect(plan.objects[2]).toMatchObject({ roleRef: { kind: 'Role', name: 'kl-r-xyz' }, ownedByServiceAccount: true });
  });
  test('mode 3, Role + cluster_role_binding → invalid', () => {
    expectInvalid(() => buildPlan(input(roles.genRole, true)), 'cluster_role_binding');
  });
  test('mode 3, ClusterRole: ClusterRole(rules) + RoleBinding', () => {
    const plan = buildPlan(input(roles.genCluster));
    expect(kinds(input(roles.genCluster))).toEqual(['ServiceAccount/apps/kl-r-xyz', 'ClusterRole/kl-r-xyz', 'RoleBinding/apps/kl-r-xyz']);
    expect(plan.objects[1]!.ownedByServiceAccount).toBeUndefined();
    expect(plan.objects[2]).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'kl-r-xyz' }, ownedByServiceAccount: true });
  });
  test('mode 3, ClusterRole + cluster_role_binding: ClusterRole + ClusterRoleBinding', () => {
    const plan = buildPlan(input(roles.genCluster, true));
    expect(kinds(input(roles.genCluster, true))).toEqual(['ServiceAccount/apps/kl-r-xyz', 'ClusterRole/kl-r-xyz', 'ClusterRoleBinding/kl-r-xyz']);
    expect(plan.objects[2]!.roleRef).toEqual({ kind: 'ClusterRole', name: 'kl-r-xyz' });
  });
  test('rules are copied, not shared with the role', () => {
    const plan = buildPlan(input(roles.genRole));
    plan.objects[1]!.rules![0]!.verbs.push('delete');
    expect(roles.genRole.rules![0]!.verbs).toEqual(['list']);
  });
  test('deletion order of a full plan: binding, role, SA', () => {
    const plan = buildPlan(input(roles.genCluster, true));
    expect(deletionOrder(plan.objects).map((g) => g.map((o) => o.kind))).toEqual([['ClusterRoleBinding'], ['ClusterRole'], ['ServiceAccount']]);
  });
});

describe('labels and annotations', () => {
  test('every object carries the managed labels and expires-at annotation', () => {
    for (const role of Object.values(roles)) {
      for (const crb of [false, true]) {
        if (crb && role.kubernetes_role_type !== 'ClusterRole') continue;
        for (const o of buildPlan(input(role, crb)).objects) {
          expect(o.labels).toMatchObject({ [LABEL_MANAGED_BY]: 'kubelease', [LABEL_LEASE]: 'abc123', [LABEL_MOUNT]: 'prod', team: 'a' });
          expect(o.annotations).toEqual({ note: 'n', [ANNOTATION_EXPIRES_AT]: '2025-06-01T12:00:00Z' });
        }
      }
    }
  });
  test('role label is label-safe', () => {
    expect(buildPlan(input(roles.sa)).objects[0]!.labels[LABEL_ROLE]).toBe('ci_Team.x');
  });
  test('reserved keys win over extra labels/annotations', () => {
    const forged: Role = {
      ...roles.bindRole,
      extra_labels: { [LABEL_MANAGED_BY]: 'someone', [LABEL_LEASE]: 'forged', [LABEL_ROLE]: 'x', [LABEL_MOUNT]: 'y', keep: 'me' },
      extra_annotations: { [ANNOTATION_EXPIRES_AT]: 'never' },
    };
    for (const o of buildPlan(input(forged)).objects) {
      expect(o.labels).toEqual({
        [LABEL_MANAGED_BY]: 'kubelease',
        [LABEL_LEASE]: 'abc123',
        [LABEL_ROLE]: 'r',
        [LABEL_MOUNT]: 'prod',
        'kubelease.io/installation': 'inst0123456789ab',
        keep: 'me',
      });
      expect(o.annotations[ANNOTATION_EXPIRES_AT]).toBe('2025-06-01T12:00:00Z');
    }
  });
  test('the selector of the sweeper', () => {
    expect(MANAGED_LABEL_SELECTOR).toBe('app.kubernetes.io/managed-by=kubelease');
  });
});
