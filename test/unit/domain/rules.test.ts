import { parseRules, toPolicyRules } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

const F = 'generated_role_rules';
const pods = [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }];

describe('parseRules', () => {
  test('seed 001 sample payload 3: YAML, verbatim', () => {
    expect(parseRules('rules:\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["list"]\n')).toEqual(pods);
  });
  test('seed 001 sample payload 3: single-quoted JSON-ish, verbatim', () => {
    expect(parseRules("'rules': [{'apiGroups': [''],'resources': ['pods'],'verbs': ['list']}]")).toEqual(pods);
  });
  test('strict JSON', () => {
    expect(parseRules(JSON.stringify({ rules: pods }))).toEqual(pods);
  });
  test('resourceNames and nonResourceURLs (cluster-scoped)', () => {
    expect(
      parseRules(
        'rules:\n- apiGroups: [apps]\n  resources: [deployments]\n  resourceNames: [web]\n  verbs: [get, patch]\n- nonResourceURLs: ["/healthz"]\n  verbs: [get]',
      ),
    ).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['get', 'patch'] },
      { nonResourceURLs: ['/healthz'], verbs: ['get'] },
    ]);
  });
  test('"" is unset', () => expect(parseRules('')).toBeUndefined());

  test.each<[string, string[]]>([
    ['[]', ['expected an object with a rules: list', 'array']],
    ['rules: []', ['at least one PolicyRule']],
    ['rules: {}', ['rules must be a list']],
    ['{}', ['missing rules:']],
    ['rules: [x]', ['rules[0]', 'expected a PolicyRule object']],
    ['kind: Role\nrules: []', ['unknown key "kind"']],
    ['rules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: [get]\n  verb: [list]', ['rules[0]', 'unknown key "verb"']],
    ['rules:\n- apiGroups: [""]\n  resources: [pods]', ['rules[0].verbs', 'at least one verb']],
    ['rules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: []', ['rules[0].verbs', 'at least one verb']],
    ['rules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: get', ['rules[0].verbs', 'must be a list of strings']],
    ['rules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: [1]', ['rules[0].verbs[0]', 'expected a string']],
    ['rules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: [""]', ['rules[0].verbs[0]', 'must not be empty']],
    ['rules:\n- resources: [pods]\n  verbs: [get]', ['rules[0].apiGroups', 'at least one api group']],
    ['rules:\n- apiGroups: [""]\n  verbs: [get]', ['rules[0].resources', 'at least one resource']],
    ['rules:\n- apiGroups: [""]\n  resources: [pods]\n  nonResourceURLs: ["/x"]\n  verbs: [get]', ['both resources and nonResourceURLs']],
    ['rules: [', ['neither valid JSON nor YAML']],
  ])('%p is rejected', (text, fragments) => {
    expectInvalid(() => parseRules(text), `${F}: `, ...fragments);
  });

  test('namespaced (Role) rules cannot use nonResourceURLs', () => {
    expectInvalid(() => parseRules('rules:\n- nonResourceURLs: ["/x"]\n  verbs: [get]', { namespaced: true }), 'rules[0].nonResourceURLs', 'ClusterRole');
  });
  test('every problem is reported, each naming its rule', () => {
    const e = expectInvalid(() => toPolicyRules([{ verbs: [] }, { apiGroups: [''], resources: ['x'], verbs: ['get'], bogus: 1 }]));
    expect(e.errors.some((m) => m.includes('rules[0].verbs'))).toBe(true);
    expect(e.errors.some((m) => m.includes('rules[1]') && m.includes('"bogus"'))).toBe(true);
  });
});
