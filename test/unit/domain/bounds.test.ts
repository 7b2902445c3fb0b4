/**
 * Issue 10, the pure rules: bounds on every role field and on the whole role (item 4), creds
 * bounds, mount names as DNS-1123 labels (item 7), admin principals as IAM ARN patterns (item 8).
 */
import {
  checkAdminPrincipals,
  checkMountName,
  isMountName,
  mergeRole,
  parseCredsRequest,
  parseStoredRole,
  ROLE_LIMITS,
} from '../../../lib/domain/index.js';
import { expectError, expectInvalid } from './helpers.js';

const sa = { allowed_kubernetes_namespaces: '*', service_account_name: 'default' };
const mk = (input: Record<string, unknown>) => mergeRole('r', undefined, { ...sa, ...input });
const arns = (n: number, pad = 0) => Array.from({ length: n }, (_, i) => `arn:aws:iam::123456789012:role/ci-${String(i).padStart(pad, '0')}`);

describe('item 4: role bounds (400 naming the field and the limit)', () => {
  test('the limits are the documented ones', () => {
    expect(ROLE_LIMITS).toEqual({
      allowed_kubernetes_namespaces: 256,
      allowed_kubernetes_namespace_selector: 16384,
      token_default_audiences: 32,
      allowed_audiences: 32,
      audience_length: 512,
      generated_role_rules: 65536,
      name_template: 1024,
      extra_labels: 64,
      extra_annotations: 64,
      extra_annotations_bytes: 32768,
      allowed_principals: 256,
      role_bytes: 131072,
    });
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['allowed_kubernetes_namespaces', { allowed_kubernetes_namespaces: Array.from({ length: 257 }, (_, i) => `ns-${i}`) }, 'at most 256 entries'],
    ['allowed_kubernetes_namespace_selector', { allowed_kubernetes_namespace_selector: `matchLabels:\n  a: b\n# ${'x'.repeat(16384)}` }, 'at most 16384 bytes'],
    ['token_default_audiences', { token_default_audiences: Array.from({ length: 33 }, (_, i) => `aud-${i}`), allowed_audiences: '*' }, 'at most 32 entries'],
    ['allowed_audiences', { allowed_audiences: ['x'.repeat(513)] }, 'at most 512 characters'],
    ['generated_role_rules', { service_account_name: '', generated_role_rules: `rules: []\n#${'x'.repeat(65536)}` }, 'at most 65536 bytes'],
    ['name_template', { name_template: `kl-${'{{ random 1 }}'.repeat(100)}` }, 'at most 1024 characters'],
    ['extra_labels', { extra_labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])) }, 'at most 64 entries'],
    ['extra_annotations', { extra_annotations: { 'example.com/big': 'x'.repeat(40_000) } }, 'at most 32768 bytes'],
    ['allowed_principals', { allowed_principals: arns(3000) }, 'at most 256 entries'],
  ])('%s', (field, input, limit) => {
    const err = expectInvalid(() => mk(input), field);
    expect(err.message).toContain(limit);
  });

  test('the whole role is bounded too, even when each field is within its limit', () => {
    const long = Array.from({ length: 200 }, (_, i) => `arn:aws:iam::123456789012:role/${'p'.repeat(700)}-${i}`);
    const err = expectInvalid(() => mk({ allowed_principals: long }), 'role:', 'at most 131072 bytes');
    expect(err.errors).toHaveLength(1);
  });

  test('a console-edited item over a bound fails closed (422), like any broken stored role', () => {
    expectError(() => parseStoredRole('c1', 'big', { ...sa, extra_annotations: { 'a/b': 'x'.repeat(200_000) } }), 'unprocessable', 'roles/c1/big', 'extra_annotations');
  });

  test('roles within every limit are fine', () => {
    expect(mk({ allowed_principals: arns(256, 3), extra_annotations: { 'example.com/note': 'x'.repeat(30_000) } }).allowed_principals).toHaveLength(256);
  });

  test('creds audiences are bounded as well', () => {
    expectInvalid(() => parseCredsRequest({ audiences: Array.from({ length: 33 }, (_, i) => `a${i}`) }), 'audiences', 'at most 32 entries');
    expectInvalid(() => parseCredsRequest({ audiences: 'y'.repeat(600) }), 'audiences', 'at most 512 characters');
  });
});

describe('item 7: a mount name is a DNS-1123 label', () => {
  test.each(['-', 'a-', '--', '-a', 'A', 'a_b', 'x'.repeat(64), 'sys', 'mounts', ''])('%j is refused', (m) => {
    expect(isMountName(m)).toBe(false);
    expectInvalid(() => checkMountName(m), 'mount');
  });
  test.each(['a', 'a-b', 'a--b', 'prod-eu-1', '0', 'x'.repeat(63)])('%j is a mount name', (m) => {
    expect(isMountName(m)).toBe(true);
  });
});

describe('item 8: admin principals are IAM ARN patterns, never "*"', () => {
  test.each([
    ['*', 'a bare "*" would make every caller an admin'],
    ['arn:aws:iam::123456789012', 'must be an IAM or STS ARN'],
    ['arn:*:*::*:*', '12-digit account'],
    ['arn:aws:iam::*:role/admin', '12-digit account'],
    ['arn:aws:iam::12345:role/admin', 'must be an IAM or STS ARN'],
    ['arn:aws:iam::123456789012:*', 'must be an IAM or STS ARN'],
    ['role/admin', 'must be an IAM or STS ARN'],
  ])('%j is refused', (p, why) => {
    expect(() => checkAdminPrincipals([p])).toThrow(why);
  });

  test('ARNs and patterns within one account are accepted, trimmed and empty entries dropped', () => {
    expect(checkAdminPrincipals([' arn:aws:iam::123456789012:role/platform-admin', '', 'arn:aws:iam::123456789012:role/sre-*', 'arn:aws:sts::123456789012:assumed-role/ops/*'])).toEqual([
      'arn:aws:iam::123456789012:role/platform-admin',
      'arn:aws:iam::123456789012:role/sre-*',
      'arn:aws:sts::123456789012:assumed-role/ops/*',
    ]);
    expect(checkAdminPrincipals([])).toEqual([]);
  });
});
