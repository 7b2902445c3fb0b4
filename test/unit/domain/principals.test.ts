import { anyPrincipalMatches, displayNameFromArn, globMatch, principalMatches, roleArnOfSession } from '../../../lib/domain/index.js';

const ROLE = 'arn:aws:iam::123456789012:role/ci-deployer';
const SESSION = 'arn:aws:sts::123456789012:assumed-role/ci-deployer/session-42';

describe('principalMatches', () => {
  test.each<[string, string, boolean]>([
    // exact
    [ROLE, ROLE, true],
    ['arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:user/alice', true],
    ['arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:user/alice2', false],
    // assumed-role sessions match their role ARN
    [ROLE, SESSION, true],
    ['arn:aws:iam::123456789012:role/ci-*', SESSION, true],
    ['arn:aws:iam::123456789012:role/*', SESSION, true],
    ['arn:aws:iam::*:role/ci-deployer', SESSION, true],
    ['arn:aws:sts::123456789012:assumed-role/ci-deployer/*', SESSION, true],
    ['arn:aws:sts::123456789012:assumed-role/ci-deployer/session-4?', SESSION, true],
    // non-matches
    [ROLE, 'arn:aws:sts::210987654321:assumed-role/ci-deployer/session-42', false], // other account
    [ROLE, 'arn:aws:sts::123456789012:assumed-role/ci-deployer-evil/s', false],
    [ROLE, 'arn:aws:iam::123456789012:role/ci-deployer-evil', false],
    ['arn:aws:iam::123456789012:role/ci-*', 'arn:aws:sts::123456789012:assumed-role/prod-deployer/s', false],
    ['arn:aws:iam::123456789012:role/ci-deployer', 'arn:aws-cn:sts::123456789012:assumed-role/ci-deployer/s', false],
    ['arn:aws:iam::123456789012:user/ci-deployer', SESSION, false],
    ['arn:aws:sts::123456789012:assumed-role/other/*', SESSION, false],
    // role paths: exact pattern with a path matches by (account-unique) role name
    ['arn:aws:iam::123456789012:role/teams/ci/ci-deployer', SESSION, true],
    ['arn:aws:iam::123456789012:role/teams/ci/ci-deployer', 'arn:aws:sts::123456789012:assumed-role/ci-deployer-evil/s', false],
    ['arn:aws:iam::123456789012:role/teams/ci/ci-deployer', 'arn:aws:sts::999999999999:assumed-role/ci-deployer/s', false],
    // ...but a wildcard with a path cannot be verified for sessions: fails closed
    ['arn:aws:iam::123456789012:role/teams/*', SESSION, false],
    ['arn:aws:iam::123456789012:role/teams/*', 'arn:aws:iam::123456789012:role/teams/x', true],
    ['', SESSION, false],
  ])('%s vs %s → %p', (pattern, arn, expected) => {
    expect(principalMatches(pattern, arn)).toBe(expected);
  });

  test('anyPrincipalMatches', () => {
    expect(anyPrincipalMatches([], SESSION)).toBe(false);
    expect(anyPrincipalMatches(['arn:aws:iam::123456789012:role/x', ROLE], SESSION)).toBe(true);
    expect(anyPrincipalMatches(['arn:aws:iam::123456789012:role/x'], SESSION)).toBe(false);
  });
});

test('globMatch', () => {
  expect(globMatch('a*c', 'abbbc')).toBe(true);
  expect(globMatch('a*c', 'abbbd')).toBe(false);
  expect(globMatch('a?c', 'abc')).toBe(true);
  expect(globMatch('a?c', 'ac')).toBe(false);
  expect(globMatch('*', '')).toBe(true);
  expect(globMatch('a.c', 'abc')).toBe(false); // no regex semantics
  const t0 = Date.now();
  expect(globMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
  expect(Date.now() - t0).toBeLessThan(2000);
});

test('session helpers', () => {
  expect(roleArnOfSession(SESSION)).toBe(ROLE);
  expect(roleArnOfSession(ROLE)).toBeUndefined();
  expect(displayNameFromArn(SESSION)).toBe('ci-deployer');
  expect(displayNameFromArn('arn:aws:iam::123456789012:user/path/alice')).toBe('alice');
});
