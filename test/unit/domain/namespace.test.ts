import { chooseNamespace, mergeRole, namespaceAllowed, namespaceAllowedByList } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

const role = (input: Record<string, unknown>) => mergeRole('r', undefined, { service_account_name: 'default', ...input });

describe('chooseNamespace', () => {
  test('explicit namespace wins', () => {
    expect(chooseNamespace(role({ allowed_kubernetes_namespaces: 'a' }), 'b')).toBe('b');
    expect(chooseNamespace(role({ allowed_kubernetes_namespaces: '*' }), ' apps ')).toBe('apps');
  });
  test('omitted: only with exactly one non-* namespace and no selector', () => {
    expect(chooseNamespace(role({ allowed_kubernetes_namespaces: 'only' }), undefined)).toBe('only');
    expect(chooseNamespace(role({ allowed_kubernetes_namespaces: 'only' }), '')).toBe('only');
    expectInvalid(() => chooseNamespace(role({ allowed_kubernetes_namespaces: '*' }), undefined), 'kubernetes_namespace is required', 'all namespaces');
    expectInvalid(() => chooseNamespace(role({ allowed_kubernetes_namespaces: 'a,b' }), undefined), 'kubernetes_namespace is required', 'namespaces a, b');
    expectInvalid(
      () => chooseNamespace(role({ allowed_kubernetes_namespaces: 'a', allowed_kubernetes_namespace_selector: 'matchLabels: {stage: prod}' }), undefined),
      'kubernetes_namespace is required',
      'namespaces labeled stage=prod',
    );
  });
  test('invalid names are rejected', () => {
    expectInvalid(() => chooseNamespace(role({ allowed_kubernetes_namespaces: '*' }), 'Bad_NS'), 'kubernetes_namespace: "Bad_NS" is not a valid namespace name');
  });
});

describe('namespaceAllowed (list OR selector)', () => {
  const listOnly = role({ allowed_kubernetes_namespaces: 'a,b' });
  const star = role({ allowed_kubernetes_namespaces: '*' });
  const both = role({ allowed_kubernetes_namespaces: 'a', allowed_kubernetes_namespace_selector: 'matchLabels: {stage: prod}' });
  const selOnly = role({ allowed_kubernetes_namespace_selector: 'matchExpressions: [{key: team, operator: In, values: [x, y]}]' });

  test('by list', () => {
    expect(namespaceAllowedByList(listOnly, 'a')).toBe(true);
    expect(namespaceAllowedByList(listOnly, 'c')).toBe(false);
    expect(namespaceAllowedByList(star, 'anything')).toBe(true);
    expect(namespaceAllowed(listOnly, 'b', undefined)).toBe(true);
  });
  test('by selector', () => {
    expect(namespaceAllowed(both, 'z', { stage: 'prod' })).toBe(true);
    expect(namespaceAllowed(both, 'a', {})).toBe(true);
    expect(namespaceAllowed(selOnly, 'q', { team: 'y' })).toBe(true);
  });
  test('denials say what the role allows', () => {
    expectInvalid(() => namespaceAllowed(listOnly, 'c', { stage: 'prod' }), 'kubernetes_namespace: "c" is not allowed by role "r"', 'namespaces a, b');
    expectInvalid(() => namespaceAllowed(both, 'z', { stage: 'dev' }), 'namespaces a, or namespaces labeled stage=prod');
    expectInvalid(() => namespaceAllowed(both, 'z', undefined), 'not allowed');
    expectInvalid(() => namespaceAllowed(selOnly, 'q', { team: 'z' }), 'namespaces labeled team in (x,y)');
  });
});
