import {
  KubeleaseError,
  mergeRole,
  parseStoredRole,
  roleMode,
  roleReadView,
  roleToItem,
  type Role,
} from '../../../lib/domain/index.js';
import { expectError, expectInvalid } from './helpers.js';

const sa = { allowed_kubernetes_namespaces: '*', service_account_name: 'default' };
const mk = (input: unknown, name = 'r') => mergeRole(name, undefined, input);

describe('seed 001 sample payloads', () => {
  test('1: pre-existing service account', () => {
    const r = mk({ allowed_kubernetes_namespaces: '*', service_account_name: 'default', token_max_ttl: '24h' }, 'default-role');
    expect(r).toMatchObject({ name: 'default-role', allowed_kubernetes_namespaces: ['*'], service_account_name: 'default', token_max_ttl: 86400, revocable: true });
    expect(roleMode(r)).toBe('existing_service_account');
  });
  test('2: pre-existing ClusterRole', () => {
    const r = mk({ allowed_kubernetes_namespaces: '*', kubernetes_role_type: 'ClusterRole', kubernetes_role_name: 'vault-k8s-secrets-role' });
    expect(r.kubernetes_role_type).toBe('ClusterRole');
    expect(roleMode(r)).toBe('bind_role');
  });
  test('3: generated rules, YAML and JSON-ish', () => {
    const yaml = mk({ allowed_kubernetes_namespaces: '*', generated_role_rules: 'rules:\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["list"]\n' });
    const json = mk({ allowed_kubernetes_namespaces: '*', generated_role_rules: "'rules': [{'apiGroups': [''],'resources': ['pods'],'verbs': ['list']}]" });
    expect(yaml.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);
    expect(json.rules).toEqual(yaml.rules);
    expect(roleMode(json)).toBe('generated_role');
    expect(json.generated_role_rules).toBe("'rules': [{'apiGroups': [''],'resources': ['pods'],'verbs': ['list']}]");
  });
  test('4: selector, YAML and JSON-ish', () => {
    const a = mk({ allowed_kubernetes_namespace_selector: 'matchLabels:\n  stage: prod\n  sa-generator: vault', service_account_name: 'default' });
    const b = mk({ allowed_kubernetes_namespace_selector: "'{'matchLabels':{'stage':'prod','sa-generator':'vault'}}", service_account_name: 'default' });
    expect(a.namespace_selector).toEqual({ matchLabels: { stage: 'prod', 'sa-generator': 'vault' } });
    expect(b.namespace_selector).toEqual(a.namespace_selector);
    expect(a.allowed_kubernetes_namespaces).toEqual([]);
  });
  test('5: namespaces and selector', () => {
    const r = mk({
      allowed_kubernetes_namespaces: 'vault-system,testing',
      allowed_kubernetes_namespace_selector: "'{'matchLabels':{'stage':'prod','sa-generator':'vault'}}",
      service_account_name: 'default',
    });
    expect(r.allowed_kubernetes_namespaces).toEqual(['testing', 'vault-system']);
    expect(r.namespace_selector?.matchLabels?.stage).toBe('prod');
  });
});

describe('field shapes', () => {
  test.each<[unknown, string[]]>([
    ['*', ['*']],
    [['*'], ['*']],
    ['b, A ,a,,b', ['a', 'b']],
    [['Prod', 'dev', 'prod'], ['dev', 'prod']],
    ['a,*', ['*']],
  ])('allowed_kubernetes_namespaces %j → %j', (value, out) => {
    expect(mk({ ...sa, allowed_kubernetes_namespaces: value }).allowed_kubernetes_namespaces).toEqual(out);
  });
  test('TTLs: seconds, numeric strings, Go durations', () => {
    const r = mk({ ...sa, token_max_ttl: '2h', token_default_ttl: 3600 });
    expect([r.token_max_ttl, r.token_default_ttl]).toEqual([7200, 3600]);
    expect(mk({ ...sa, token_max_ttl: '7200', token_default_ttl: '1h30m' }).token_default_ttl).toBe(5400);
  });
  test('token_default_audiences: comma string or array', () => {
    expect(mk({ ...sa, token_default_audiences: 'a, b,a' }).token_default_audiences).toEqual(['a', 'b']);
    expect(mk({ ...sa, token_default_audiences: ['x', 'y'] }).token_default_audiences).toEqual(['x', 'y']);
  });
  test('kubernetes_role_type is case-insensitive and stored canonical', () => {
    expect(mk({ ...sa, kubernetes_role_type: 'clusterrole' }).kubernetes_role_type).toBe('ClusterRole');
    expect(mk({ ...sa, kubernetes_role_type: 'ROLE' }).kubernetes_role_type).toBe('Role');
    expect(mk({ ...sa }).kubernetes_role_type).toBe('Role');
  });
  test('extra_labels / extra_annotations: map, k=v list, comma string', () => {
    const r = mk({ ...sa, extra_labels: { team: 'a', n: 1 }, extra_annotations: ['owner=ci team', 'example.com/x=y'] });
    expect(r.extra_labels).toEqual({ n: '1', team: 'a' });
    expect(r.extra_annotations).toEqual({ 'example.com/x': 'y', owner: 'ci team' });
    expect(mk({ ...sa, extra_labels: 'a=b,c=d' }).extra_labels).toEqual({ a: 'b', c: 'd' });
  });
  test('allowed_principals: array or comma string, sorted', () => {
    const r = mk({ ...sa, allowed_principals: 'arn:aws:iam::123456789012:role/ci-*,arn:aws:iam::123456789012:role/admin' });
    expect(r.allowed_principals).toEqual(['arn:aws:iam::123456789012:role/admin', 'arn:aws:iam::123456789012:role/ci-*']);
  });
  test('revocable: bool or strings, default true', () => {
    expect(mk({ ...sa }).revocable).toBe(true);
    expect(mk({ ...sa, revocable: false }).revocable).toBe(false);
    expect(mk({ ...sa, revocable: 'false' }).revocable).toBe(false);
    expect(mk({ ...sa, revocable: 'true' }).revocable).toBe(true);
  });
  test('JSON objects for selector / rules are accepted and kept as JSON text', () => {
    const r = mk({ allowed_kubernetes_namespace_selector: { matchLabels: { a: 'b' } }, generated_role_rules: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] } });
    expect(r.allowed_kubernetes_namespace_selector).toBe('{"matchLabels":{"a":"b"}}');
    expect(r.rules?.[0]?.verbs).toEqual(['get']);
  });
  test('name_template is dry-rendered', () => {
    expect(mk({ ...sa, name_template: '{{ .RoleName }}-{{ random 5 }}' }).name_template).toBe('{{ .RoleName }}-{{ random 5 }}');
  });
  test('body name must match the path', () => {
    expect(mk({ ...sa, name: 'r' }).name).toBe('r');
    expectInvalid(() => mk({ ...sa, name: 'other' }), 'name: "other" does not match');
  });
  test('null means "not sent"', () => {
    expect(mk({ ...sa, token_max_ttl: null }).token_max_ttl).toBe(0);
  });
});

describe('validation messages name the field', () => {
  test.each<[Record<string, unknown>, string[]]>([
    [{ ...sa, allowed_kubernetes_namespaces: 'Foo_bar' }, ['allowed_kubernetes_namespaces: "Foo_bar" is not a valid namespace name (DNS-1123 label)']],
    [{ ...sa, allowed_kubernetes_namespaces: 5 }, ['allowed_kubernetes_namespaces: expected a comma-separated string or an array']],
    [{ ...sa, allowed_kubernetes_namespaces: [1, {}] }, ['allowed_kubernetes_namespaces[1]: expected a string']],
    [{ ...sa, allowed_kubernetes_namespace_selector: 'matchLabels: {}' }, ['allowed_kubernetes_namespace_selector: selector is empty']],
    [{ ...sa, allowed_kubernetes_namespace_selector: 7 }, ['allowed_kubernetes_namespace_selector: expected a JSON or YAML string']],
    [{ ...sa, token_max_ttl: 'forever' }, ['token_max_ttl: "forever" is not a valid duration']],
    [{ ...sa, token_default_ttl: -5 }, ['token_default_ttl: -5 must not be negative']],
    [{ ...sa, token_default_ttl: '5m' }, ['token_default_ttl: 5m0s is below the Kubernetes minimum', '600 s']],
    [{ ...sa, token_default_ttl: '2h', token_max_ttl: '1h' }, ['token_default_ttl: 2h0m0s cannot be greater than token_max_ttl 1h0m0s']],
    [{ ...sa, token_default_audiences: {} }, ['token_default_audiences: expected a comma-separated string']],
    [{ ...sa, service_account_name: 'Bad_SA' }, ['service_account_name: "Bad_SA" is not a valid service account name']],
    [{ ...sa, service_account_name: 3 }, ['service_account_name: expected a string, got number']],
    [{ allowed_kubernetes_namespaces: '*', kubernetes_role_name: 'a/b' }, ['kubernetes_role_name: "a/b" is not a valid Role/ClusterRole name']],
    [{ ...sa, kubernetes_role_type: 'Group' }, ['kubernetes_role_type: "Group" must be Role or ClusterRole']],
    [{ allowed_kubernetes_namespaces: '*', generated_role_rules: 'rules: []' }, ['generated_role_rules: rules must contain at least one PolicyRule']],
    [
      { allowed_kubernetes_namespaces: '*', generated_role_rules: 'rules:\n- nonResourceURLs: ["/x"]\n  verbs: [get]' },
      ['generated_role_rules: rules[0].nonResourceURLs', 'kubernetes_role_type ClusterRole'],
    ],
    [{ ...sa, name_template: '{{ .Nope }}' }, ['name_template: unknown field .Nope']],
    [{ ...sa, name_template: 'Upper{{random 3}}' }, ['name_template: renders "Upperaaa"', 'DNS-1123']],
    [{ ...sa, extra_labels: { 'kubelease.io/lease': 'x' } }, ['extra_labels: label key "kubelease.io/lease" is reserved']],
    [{ ...sa, extra_labels: { 'app.kubernetes.io/managed-by': 'me' } }, ['extra_labels: label key "app.kubernetes.io/managed-by" is reserved']],
    [{ ...sa, extra_labels: { 'x.kubelease.io/a': 'b' } }, ['reserved']],
    [{ ...sa, extra_labels: { 'a b': 'c' } }, ['extra_labels: label key "a b"']],
    [{ ...sa, extra_labels: { a: 'b c' } }, ['extra_labels.a: "b c" is not a valid label value']],
    [{ ...sa, extra_labels: { a: {} } }, ['extra_labels.a: expected a string value']],
    [{ ...sa, extra_labels: 'novalue' }, ['extra_labels: "novalue" is not a "key=value" pair']],
    [{ ...sa, extra_labels: 5 }, ['extra_labels: expected a map of strings']],
    [{ ...sa, extra_annotations: { 'kubelease.io/expires-at': 'never' } }, ['extra_annotations: annotation key "kubelease.io/expires-at" is reserved']],
    [{ ...sa, extra_annotations: { '-bad': 'x' } }, ['extra_annotations: annotation key "-bad"']],
    [{ ...sa, extra_annotations: '__proto__=x' }, ['extra_annotations: annotation key "__proto__"']],
    [JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>, ['__proto__: unknown field']],
    [{ ...sa, allowed_principals: ['*'] }, ['allowed_principals: "*" is not an IAM ARN or ARN pattern']],
    [{ ...sa, allowed_principals: 'arn:aws:s3:::bucket' }, ['allowed_principals: "arn:aws:s3:::bucket"']],
    [{ ...sa, revocable: 'maybe' }, ['revocable: "maybe" is not a boolean']],
    [{ ...sa, tokn_max_ttl: '1h' }, ['tokn_max_ttl: unknown field']],
    [{ service_account_name: 'default' }, ['allowed_kubernetes_namespaces: at least one of allowed_kubernetes_namespaces or allowed_kubernetes_namespace_selector']],
    [{ allowed_kubernetes_namespaces: '*' }, ['one of service_account_name, kubernetes_role_name, generated_role_rules must be set']],
    [{ ...sa, kubernetes_role_name: 'edit' }, ['service_account_name, kubernetes_role_name: only one of']],
  ])('%j', (input, fragments) => {
    expectInvalid(() => mk(input), ...fragments);
  });

  test('one message per problem', () => {
    const e = expectInvalid(() => mk({ allowed_kubernetes_namespaces: 'A_1', token_max_ttl: 'x', bogus: 1, other: 2 }));
    expect(e.errors).toHaveLength(4);
    expect(e.errors).toEqual(
      expect.arrayContaining(['bogus: unknown field', 'other: unknown field', expect.stringContaining('token_max_ttl: '), expect.stringContaining('allowed_kubernetes_namespaces: ')]),
    );
    for (const m of e.errors) expect(m).not.toMatch(/"code"|invalid_type|ZodError/);
  });
  test('non-object bodies', () => {
    expectInvalid(() => mergeRole('r', undefined, [1]), 'role: expected a JSON object');
    expectInvalid(() => mergeRole('r', undefined, 'x'), 'role: expected a JSON object');
    expectInvalid(() => mergeRole('r', undefined, undefined), 'one of service_account_name');
  });
  test('bad role name in the path', () => {
    expectInvalid(() => mergeRole('bad/name', undefined, sa), 'name: "bad/name"');
  });
});

describe('partial update', () => {
  const base = mk({ ...sa, token_max_ttl: '24h', token_default_audiences: 'aud', extra_labels: { a: 'b' } });
  test('unset fields keep their values', () => {
    const r = mergeRole('r', base, { token_default_ttl: '1h' });
    expect(r).toMatchObject({ token_max_ttl: 86400, token_default_ttl: 3600, token_default_audiences: ['aud'], extra_labels: { a: 'b' }, service_account_name: 'default' });
  });
  test('"" clears a field back to its default', () => {
    const r = mergeRole('r', base, { token_max_ttl: '', token_default_audiences: '', extra_labels: '' });
    expect(r).toMatchObject({ token_max_ttl: 0, token_default_audiences: [], extra_labels: {} });
  });
  test('switching mode requires clearing the old mode field', () => {
    expectInvalid(
      () => mergeRole('r', base, { kubernetes_role_name: 'edit' }),
      'the role already has service_account_name',
      'send "service_account_name": ""',
    );
    const r = mergeRole('r', base, { kubernetes_role_name: 'edit', service_account_name: '' });
    expect(roleMode(r)).toBe('bind_role');
    expect(r.service_account_name).toBe('');
  });
  test('whole-role rules apply after merging', () => {
    expectInvalid(() => mergeRole('r', base, { allowed_kubernetes_namespaces: '' }), 'at least one of allowed_kubernetes_namespaces');
    expectInvalid(() => mergeRole('r', base, { token_default_ttl: '48h' }), 'token_default_ttl: 48h0m0s cannot be greater than token_max_ttl 24h0m0s');
    expect(mergeRole('r', base, { token_max_ttl: 0, token_default_ttl: '48h' }).token_default_ttl).toBe(172800);
  });
  test('the existing role is not mutated', () => {
    const copy = structuredClone(base);
    mergeRole('r', base, { extra_labels: { z: 'y' }, allowed_kubernetes_namespaces: 'x' });
    expect(base).toEqual(copy);
  });
});

describe('stored items', () => {
  const role = mk({
    allowed_kubernetes_namespaces: 'a,b',
    allowed_kubernetes_namespace_selector: 'matchLabels: {stage: prod}',
    generated_role_rules: 'rules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: [get]',
    kubernetes_role_type: 'ClusterRole',
    token_max_ttl: '2h',
    token_default_ttl: '1h',
    token_default_audiences: 'x,y',
    name_template: '{{.RoleName}}-{{random 4}}',
    extra_labels: { team: 'a' },
    extra_annotations: { note: 'hi' },
    allowed_principals: ['arn:aws:iam::123456789012:role/ci'],
    revocable: false,
  });
  test('roleToItem is plain JSON and round-trips through parseStoredRole', () => {
    const item = roleToItem(role);
    expect(JSON.parse(JSON.stringify(item))).toEqual(item);
    expect(item).not.toHaveProperty('rules');
    expect(item).not.toHaveProperty('namespace_selector');
    expect(parseStoredRole('m', 'r', { ...item, mount: 'm', name: 'r' })).toEqual(role);
  });
  test('DynamoDB string sets are accepted', () => {
    const item = { ...roleToItem(role), allowed_kubernetes_namespaces: new Set(['b', 'a']) };
    expect(parseStoredRole('m', 'r', item).allowed_kubernetes_namespaces).toEqual(['a', 'b']);
  });
  test('a broken item fails closed with 422 naming roles/<mount>/<name> and the field', () => {
    const e = expectError(() => parseStoredRole('prod', 'r', { ...roleToItem(role), token_max_ttl: 'soon' }), 'unprocessable', 'roles/prod/r: token_max_ttl: "soon"');
    expect(e.status).toBe(422);
    expectError(() => parseStoredRole('prod', 'r', { ...roleToItem(role), service_account_name: 'x' }), 'unprocessable', 'roles/prod/r: ', 'only one of');
    expectError(() => parseStoredRole('prod', 'r', { ...roleToItem(role), typo: 1 }), 'unprocessable', 'roles/prod/r: typo: unknown field');
    expectError(() => parseStoredRole('prod', 'r', { ...roleToItem(role), extra_labels: { 'kubelease.io/role': 'x' } }), 'unprocessable', 'roles/prod/r: extra_labels');
    expectError(() => parseStoredRole('prod', 'r', 'nope' as unknown as Record<string, unknown>), 'unprocessable', 'roles/prod/r: item: expected an object');
  });
});

describe('roleReadView', () => {
  test("Vault's read shape plus kubelease fields", () => {
    const r: Role = mk({ ...sa, token_max_ttl: '24h', extra_labels: { a: 'b' } }, 'default-role');
    expect(roleReadView(r)).toEqual({
      name: 'default-role',
      allowed_kubernetes_namespaces: ['*'],
      allowed_kubernetes_namespace_selector: '',
      token_max_ttl: 86400,
      token_default_ttl: 0,
      token_default_audiences: [],
      allowed_audiences: [],
      service_account_name: 'default',
      kubernetes_role_name: '',
      kubernetes_role_type: 'Role',
      generated_role_rules: '',
      name_template: '',
      extra_labels: { a: 'b' },
      extra_annotations: {},
      additional_metadata: { labels: { a: 'b' }, annotations: {} },
      allowed_principals: [],
      revocable: true,
      allow_cluster_role_binding: false,
      mode: 'existing_service_account',
    });
  });
  test('errors are KubeleaseErrors with status 400', () => {
    try {
      mk({});
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KubeleaseError);
      expect((e as KubeleaseError).status).toBe(400);
    }
  });
});
