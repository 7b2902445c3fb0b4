import { resolveAudiences, resolveRoleTtl, resolveTtl, SYSTEM_TTL } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

const H = 3600;
const roleCap = (ttl: string, max: string) => `ttl of ${ttl} is greater than the role's token_max_ttl of ${max}; capping ttl to ${max}`;
const sysCap = (ttl: string) => `ttl of ${ttl} is greater than the system max ttl of 24h0m0s; capping ttl to 24h0m0s`;

describe('resolveTtl (system default 1h, max 24h, floor 600s)', () => {
  test.each<[string, { requested?: number; roleDefault?: number; roleMax?: number }, number, string[]]>([
    ['nothing set → system default', {}, H, []],
    ['role default', { roleDefault: 2 * H }, 2 * H, []],
    ['request beats role default', { requested: 900, roleDefault: 2 * H }, 900, []],
    ['request 0 = not requested', { requested: 0, roleDefault: 2 * H }, 2 * H, []],
    ['request under role max', { requested: H, roleMax: 2 * H }, H, []],
    ['request capped by role max', { requested: 48 * H, roleMax: 24 * H }, 24 * H, [roleCap('48h0m0s', '24h0m0s')]],
    ['role default capped by role max (stored before max was lowered)', { roleDefault: 3 * H, roleMax: 2 * H }, 2 * H, [roleCap('3h0m0s', '2h0m0s')]],
    ['system default capped by role max', { roleMax: 1800 }, 1800, [roleCap('1h0m0s', '30m0s')]],
    ['request capped by system max', { requested: 48 * H }, 24 * H, [sysCap('48h0m0s')]],
    ['role max above system max: both caps warn', { requested: 72 * H, roleMax: 48 * H }, 24 * H, [roleCap('72h0m0s', '48h0m0s'), sysCap('48h0m0s')]],
    ['role default above system max', { roleDefault: 30 * H }, 24 * H, [sysCap('30h0m0s')]],
    ['one second over the role max', { requested: 2 * H + 1, roleMax: 2 * H }, 2 * H, [roleCap('2h0m1s', '2h0m0s')]],
    ['exactly the role max', { requested: 2 * H, roleMax: 2 * H }, 2 * H, []],
    ['one second over the system max', { requested: 24 * H + 1 }, 24 * H, [sysCap('24h0m1s')]],
    ['exactly the floor', { requested: 600 }, 600, []],
    ['exactly the system max', { requested: 24 * H }, 24 * H, []],
  ])('%s', (_name, input, ttl, warnings) => {
    expect(resolveTtl(input)).toEqual({ ttl, warnings });
  });

  test.each<[{ requested?: number; roleDefault?: number; roleMax?: number }, string]>([
    [{ requested: 599 }, 'ttl: 9m59s (requested) is below the Kubernetes minimum token lifetime of 600 s (10m0s)'],
    [{ requested: 60 }, 'ttl: 1m0s (requested)'],
    [{ roleDefault: 300 }, "ttl: 5m0s (the role's token_default_ttl)"],
    [{ requested: H, roleMax: 300 }, "ttl: 5m0s (the role's token_max_ttl)"],
  ])('below the floor: %j', (input, message) => {
    expectInvalid(() => resolveTtl(input), message);
  });

  test('system settings are parameters', () => {
    expect(resolveTtl({}, { defaultTtl: 900, maxTtl: 1200, floor: 600 })).toEqual({ ttl: 900, warnings: [] });
    expect(resolveTtl({ requested: 1800 }, { defaultTtl: 900, maxTtl: 1200, floor: 600 }).ttl).toBe(1200);
    expectInvalid(() => resolveTtl({}, { defaultTtl: 100, maxTtl: 1200, floor: 600 }), 'ttl: 1m40s (the system default ttl)');
    expect(SYSTEM_TTL).toEqual({ defaultTtl: 3600, maxTtl: 86400, floor: 600 });
  });
  test('resolveRoleTtl reads the role', () => {
    expect(resolveRoleTtl(undefined, { token_default_ttl: 1200, token_max_ttl: 0 }).ttl).toBe(1200);
  });
});

describe('resolveAudiences', () => {
  test('request → role default → [] (cluster default)', () => {
    expect(resolveAudiences(['a'], { token_default_audiences: ['b'] })).toEqual(['a']);
    expect(resolveAudiences(undefined, { token_default_audiences: ['b'] })).toEqual(['b']);
    expect(resolveAudiences([], { token_default_audiences: ['b'] })).toEqual(['b']);
    expect(resolveAudiences(undefined, { token_default_audiences: [] })).toEqual([]);
  });
  test('returns a copy', () => {
    const role = { token_default_audiences: ['b'] };
    resolveAudiences(undefined, role).push('x');
    expect(role.token_default_audiences).toEqual(['b']);
  });
});
