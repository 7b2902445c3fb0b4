/** The exec plugin's cache key and the caller identity it includes. */
import { cacheKey, fnv1a64, normalizeAudiences, type CacheKeyInput } from '../../../lib/cli/cache/key.js';
import { callerIdentity } from '../../../lib/cli/client/identity.js';

const base: CacheKeyInput = {
  addr: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
  mount: 'prod',
  role: 'deploy',
  namespace: 'apps',
  ttl: '30m',
  audiences: 'a,b',
  clusterRoleBinding: false,
  identity: 'key:AKIAAAAAAAAAAAAAAAAA',
};

describe('cacheKey', () => {
  it('names the file with a 64-bit FNV-1a hash of the full key, stable for the same input', () => {
    const k = cacheKey(base);
    expect(k.material).toBe('["kubelease-exec-v1","https://abc.execute-api.eu-west-1.amazonaws.com/prod","prod","deploy","apps","30m",["a","b"],false,"key:AKIAAAAAAAAAAAAAAAAA"]');
    expect(k.id).toBe(fnv1a64(k.material));
    expect(k.id).toMatch(/^[0-9a-f]{16}$/);
    expect(cacheKey({ ...base })).toEqual(k);
  });

  it('is FNV-1a 64 (published test vectors)', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });

  it.each([
    ['addr', { addr: 'https://other.execute-api.eu-west-1.amazonaws.com/prod' }],
    ['mount', { mount: 'staging' }],
    ['role', { role: 'read' }],
    ['namespace', { namespace: 'web' }],
    ['no namespace', { namespace: undefined }],
    ['ttl', { ttl: '1h' }],
    ['audiences', { audiences: 'a' }],
    ['cluster-role-binding', { clusterRoleBinding: true }],
    ['identity', { identity: 'key:AKIABBBBBBBBBBBBBBBB' }],
  ] as const)('changes with %s', (_name, change) => {
    expect(cacheKey({ ...base, ...change }).id).not.toBe(cacheKey(base).id);
    expect(cacheKey({ ...base, ...change }).material).not.toBe(cacheKey(base).material);
  });

  it('treats audiences as a set', () => {
    expect(cacheKey({ ...base, audiences: 'b, a,a' })).toEqual(cacheKey(base));
    expect(normalizeAudiences(' b,a,,a ')).toEqual(['a', 'b']);
    expect(normalizeAudiences(undefined)).toEqual([]);
  });
});

describe('callerIdentity', () => {
  it('uses the access key id of static keys', () => {
    expect(callerIdentity({ AWS_ACCESS_KEY_ID: 'ASIAXYZ', AWS_SECRET_ACCESS_KEY: 's' })).toBe('key:ASIAXYZ');
  });

  it('prefers AWS_PROFILE over static keys, as the SDK chain does', () => {
    expect(callerIdentity({ AWS_PROFILE: 'ci', AWS_ACCESS_KEY_ID: 'AKIA1' })).toBe('profile:ci');
  });

  it('prefers an explicit --profile over AWS_PROFILE', () => {
    expect(callerIdentity({ AWS_PROFILE: 'ci' }, 'admin')).toBe('profile:admin');
  });

  it('includes config file locations with a profile', () => {
    expect(callerIdentity({ AWS_PROFILE: 'ci', AWS_CONFIG_FILE: '/a/config' })).toBe('profile:ci@/a/config');
  });

  it('names web identity and container credentials of the default chain', () => {
    expect(callerIdentity({})).toBe('profile:default');
    expect(callerIdentity({ AWS_ROLE_ARN: 'arn:aws:iam::1:role/ci', AWS_WEB_IDENTITY_TOKEN_FILE: '/t' })).toBe('profile:default;web-identity:arn:aws:iam::1:role/ci');
    expect(callerIdentity({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/x' })).toBe('profile:default;container:/v2/credentials/x');
  });
});
