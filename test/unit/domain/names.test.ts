import {
  checkMountName,
  checkRoleName,
  isDns1123Label,
  isDns1123Subdomain,
  isIamArn,
  isIamArnPattern,
  isIamRoleArn,
  qualifiedNameProblem,
  isLabelValue,
  isMountName,
  isRbacName,
  isRoleName,
  sanitizeDnsLabel,
  toLabelValue,
  validateMount,
  validateRoleName,
} from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

const isLabelKey = (key: string): boolean => qualifiedNameProblem(key) === undefined;

test('DNS-1123 label', () => {
  for (const ok of ['a', 'default', 'kube-system', 'a1', '1a', 'a'.repeat(63)]) expect(isDns1123Label(ok)).toBe(true);
  for (const bad of ['', 'A', 'a_b', '-a', 'a-', 'a.b', 'a'.repeat(64), 'ä']) expect(isDns1123Label(bad)).toBe(false);
});

test('DNS-1123 subdomain', () => {
  for (const ok of ['a', 'a.b', 'example.com', 'my-sa', `${'a'.repeat(63)}.${'b'.repeat(63)}`]) expect(isDns1123Subdomain(ok)).toBe(true);
  for (const bad of ['', 'A.b', 'a..b', '.a', 'a.', 'a_b', 'a'.repeat(254)]) expect(isDns1123Subdomain(bad)).toBe(false);
});

test('label keys and values', () => {
  for (const ok of ['app', 'app.kubernetes.io/name', 'example.com/a_b.c-d', 'A', 'a'.repeat(63)]) expect(isLabelKey(ok)).toBe(true);
  for (const bad of ['', '/a', 'a/', 'a/b/c', 'Example.com/a', '-a', 'a-', 'a'.repeat(64), 'a b']) expect(isLabelKey(bad)).toBe(false);
  for (const ok of ['', 'prod', 'v1.2_3-x', 'A', 'a'.repeat(63)]) expect(isLabelValue(ok)).toBe(true);
  for (const bad of ['-a', 'a-', 'a b', 'a/b', 'a'.repeat(64)]) expect(isLabelValue(bad)).toBe(false);
});

test('mount names', () => {
  for (const ok of ['kubernetes', 'prod-eks', 'a', '0', 'a'.repeat(63)]) expect(isMountName(ok)).toBe(true);
  for (const bad of ['', 'sys', 'mounts', 'Prod', 'a_b', 'a.b', 'a'.repeat(64)]) expect(isMountName(bad)).toBe(false);
  expectInvalid(() => checkMountName('sys'), 'mount: "sys" is reserved');
  expectInvalid(() => validateMount('A'), 'mount: "A" is not a valid mount name');
  expect(validateMount('prod')).toBe('prod');
});

test('role names follow Vault (\\w(([\\w-.@]+)?\\w)?)', () => {
  for (const ok of ['a', 'default-role', 'ci_deployer', 'Role.Name@Team', '_x_', 'a1']) expect(isRoleName(ok)).toBe(true);
  for (const bad of ['', '-a', 'a-', 'a/b', 'a b', '.a', 'a@', 'x'.repeat(129)]) expect(isRoleName(bad)).toBe(false);
  expectInvalid(() => checkRoleName('a/b'), 'name: "a/b" is not a valid role name');
  expectInvalid(() => validateRoleName(3), 'name: 3');
});

test('RBAC names allow colons (system:auth-delegator)', () => {
  expect(isRbacName('system:auth-delegator')).toBe(true);
  for (const bad of ['', '.', '..', 'a/b', 'a%b']) expect(isRbacName(bad)).toBe(false);
});

test('IAM ARNs and patterns', () => {
  expect(isIamArn('arn:aws:iam::123456789012:role/ci-deployer')).toBe(true);
  expect(isIamArn('arn:aws:sts::123456789012:assumed-role/ci/session')).toBe(true);
  expect(isIamArn('arn:aws-us-gov:iam::123456789012:user/alice')).toBe(true);
  expect(isIamArn('arn:aws:s3:::bucket')).toBe(false);
  expect(isIamArn('arn:aws:iam::12345:role/x')).toBe(false);
  expect(isIamRoleArn('arn:aws:iam::123456789012:role/path/to/name')).toBe(true);
  expect(isIamRoleArn('arn:aws:iam::123456789012:user/name')).toBe(false);
  expect(isIamArnPattern('arn:aws:iam::123456789012:role/ci-*')).toBe(true);
  expect(isIamArnPattern('arn:aws:iam::*:role/ci-deployer')).toBe(true);
  expect(isIamArnPattern('arn:*:sts::123456789012:assumed-role/ci/*')).toBe(true);
  for (const bad of ['*', 'ci-deployer', 'arn:aws:iam::123:role/x', 'arn:aws:iam:us-east-1:123456789012:role/x', 'arn:aws:iam::123456789012:', 'arn:aws:ec2::123456789012:instance/x']) {
    expect(isIamArnPattern(bad)).toBe(false);
  }
});

test('sanitizers', () => {
  expect(sanitizeDnsLabel('My_Role.v2@Team')).toBe('my-role-v2-team');
  expect(toLabelValue('ci@deployer')).toBe('ci_deployer');
  expect(toLabelValue('_x_')).toBe('x');
  expect(isLabelValue(toLabelValue('a'.repeat(100)))).toBe(true);
});
