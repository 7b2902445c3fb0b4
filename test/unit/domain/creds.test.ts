import { parseCredsRequest } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

describe('parseCredsRequest', () => {
  test('seed 001 sample payload', () => {
    expect(parseCredsRequest({ kubernetes_namespace: 'default', ttl: '1h' })).toEqual({ kubernetes_namespace: 'default', ttl: 3600, cluster_role_binding: false });
  });
  test('empty bodies', () => {
    expect(parseCredsRequest({})).toEqual({ cluster_role_binding: false });
    expect(parseCredsRequest(undefined)).toEqual({ cluster_role_binding: false });
    expect(parseCredsRequest(null)).toEqual({ cluster_role_binding: false });
    expect(parseCredsRequest({ kubernetes_namespace: '', ttl: '', audiences: '' })).toEqual({ cluster_role_binding: false });
  });
  test('cluster_role_binding: bool or string', () => {
    expect(parseCredsRequest({ cluster_role_binding: true }).cluster_role_binding).toBe(true);
    expect(parseCredsRequest({ cluster_role_binding: 'true' }).cluster_role_binding).toBe(true);
    expect(parseCredsRequest({ cluster_role_binding: 'false' }).cluster_role_binding).toBe(false);
  });
  test('audiences: comma string or array', () => {
    expect(parseCredsRequest({ audiences: 'a, b' }).audiences).toEqual(['a', 'b']);
    expect(parseCredsRequest({ audiences: ['x'] }).audiences).toEqual(['x']);
  });
  test('ttl: seconds', () => {
    expect(parseCredsRequest({ ttl: 900 }).ttl).toBe(900);
    expect(parseCredsRequest({ ttl: 0 }).ttl).toBeUndefined();
  });
  test.each<[unknown, string]>([
    [{ kubernetes_namespace: 5 }, 'kubernetes_namespace: expected a string'],
    [{ cluster_role_binding: 'yes' }, 'cluster_role_binding: "yes" is not a boolean'],
    [{ ttl: 'soon' }, 'ttl: "soon" is not a valid duration'],
    [{ ttl: '10.5s' }, 'ttl: "10.5s" must be a whole number of seconds'],
    [{ audiences: 3 }, 'audiences: expected a comma-separated string'],
    [{ namespace: 'x' }, 'namespace: unknown field'],
    ['x', 'creds request: expected a JSON object'],
  ])('%j is rejected', (body, fragment) => {
    expectInvalid(() => parseCredsRequest(body), fragment);
  });
});
