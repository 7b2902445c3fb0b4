/**
 * Property tests: no input makes a parser throw anything but a KubeleaseError of kind
 * `invalid` (or `unprocessable` for stored items) — never a TypeError, never a raw zod error.
 */
import fc from 'fast-check';
import {
  KubeleaseError,
  mergeConfig,
  mergeRole,
  parseCredsRequest,
  parseRules,
  parseSelector,
  parseStoredRole,
  parseTtl,
  renderName,
  renderTemplate,
  resolveTtl,
  type Role,
} from '../../../lib/domain/index.js';

const RUNS = { numRuns: 300 };

function onlyKind(kind: 'invalid' | 'unprocessable', fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof KubeleaseError)) throw new Error(`threw a non-KubeleaseError: ${String(e)}`, { cause: e });
    if (e.kind !== kind) throw new Error(`threw kind ${e.kind}, expected ${kind}`);
    for (const m of e.errors) {
      if (typeof m !== 'string' || m.length === 0) throw new Error('empty message');
      if (/ZodError|"code":/.test(m)) throw new Error(`raw zod text leaked: ${m}`);
    }
  }
}

const ROLE_KEYS = [
  'allowed_kubernetes_namespaces',
  'allowed_kubernetes_namespace_selector',
  'token_max_ttl',
  'token_default_ttl',
  'token_default_audiences',
  'service_account_name',
  'kubernetes_role_name',
  'kubernetes_role_type',
  'generated_role_rules',
  'name_template',
  'extra_labels',
  'extra_annotations',
  'allowed_principals',
  'revocable',
  'name',
];
const CONFIG_KEYS = ['kubernetes_host', 'kubernetes_ca_cert', 'service_account_jwt', 'eks_cluster_name', 'eks_region', 'role_arn', 'external_id', 'disable_local_ca_jwt'];

/** Objects with the real field names and arbitrary values: reaches the field parsers. */
const bodyOf = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), fc.oneof(fc.anything(), fc.string(), fc.jsonValue()), { maxKeys: 8 });

const existing: Role = mergeRole('r', undefined, { allowed_kubernetes_namespaces: '*', service_account_name: 'default' });

describe('never anything but invalid', () => {
  test('mergeRole(anything)', () => {
    fc.assert(fc.property(fc.anything(), (v) => onlyKind('invalid', () => mergeRole('r', undefined, v))), RUNS);
    fc.assert(fc.property(fc.jsonValue(), (v) => onlyKind('invalid', () => mergeRole('r', existing, v))), RUNS);
  });
  test('mergeRole(role-shaped bodies)', () => {
    fc.assert(fc.property(bodyOf(ROLE_KEYS), (v) => onlyKind('invalid', () => mergeRole('r', undefined, v))), { numRuns: 1000 });
    fc.assert(fc.property(bodyOf(ROLE_KEYS), (v) => onlyKind('invalid', () => mergeRole('r', existing, v))), { numRuns: 500 });
  });
  test('mergeRole(any role name)', () => {
    fc.assert(fc.property(fc.string(), (name) => onlyKind('invalid', () => mergeRole(name, undefined, { allowed_kubernetes_namespaces: '*', service_account_name: 'x' }))), RUNS);
  });
  test('mergeConfig(anything)', () => {
    fc.assert(fc.property(fc.anything(), (v) => onlyKind('invalid', () => mergeConfig('m', undefined, v))), RUNS);
    fc.assert(fc.property(bodyOf(CONFIG_KEYS), (v) => onlyKind('invalid', () => mergeConfig('m', undefined, v))), { numRuns: 1000 });
    fc.assert(fc.property(fc.string(), fc.jsonValue(), (m, v) => onlyKind('invalid', () => mergeConfig(m, undefined, v))), RUNS);
  });
  test('parseCredsRequest(anything)', () => {
    fc.assert(fc.property(fc.anything(), (v) => onlyKind('invalid', () => parseCredsRequest(v))), RUNS);
    fc.assert(fc.property(bodyOf(['kubernetes_namespace', 'cluster_role_binding', 'ttl', 'audiences']), (v) => onlyKind('invalid', () => parseCredsRequest(v))), RUNS);
  });
  test('parseTtl(anything), random duration-ish strings', () => {
    fc.assert(fc.property(fc.anything(), (v) => onlyKind('invalid', () => parseTtl(v, 'ttl'))), RUNS);
    const durationish = fc.stringMatching(/^[-+]?[0-9.]{0,8}(ns|us|µs|ms|s|m|h|d|x)?([0-9.]{0,4}(s|m|h))?$/);
    fc.assert(
      fc.property(durationish, (s) => {
        onlyKind('invalid', () => {
          const n = parseTtl(s, 'ttl');
          if (!Number.isInteger(n) || n < 0) throw new Error(`bad result ${n} for ${s}`);
        });
      }),
      { numRuns: 1000 },
    );
  });
  test('parseSelector / parseRules on random text and random JSON/YAML', () => {
    const text = fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)));
    fc.assert(fc.property(text, (s) => onlyKind('invalid', () => parseSelector(s))), { numRuns: 500 });
    fc.assert(fc.property(text, (s) => onlyKind('invalid', () => parseRules(s))), { numRuns: 500 });
    const selectorish = fc.record(
      {
        matchLabels: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
        matchExpressions: fc.array(
          fc.record({ key: fc.string(), operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist', 'Bad'), values: fc.array(fc.string()) }, { requiredKeys: [] }),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(selectorish, (v) => onlyKind('invalid', () => parseSelector(JSON.stringify(v)))), { numRuns: 500 });
    const ruleish = fc.record({
      rules: fc.array(
        fc.dictionary(fc.constantFrom('apiGroups', 'resources', 'verbs', 'nonResourceURLs', 'resourceNames', 'other'), fc.oneof(fc.array(fc.string()), fc.jsonValue())),
      ),
    });
    fc.assert(fc.property(ruleish, (v) => onlyKind('invalid', () => parseRules(JSON.stringify(v), { namespaced: true }))), { numRuns: 500 });
  });
  test('templates: random text and random token soup', () => {
    const ctx = { RoleName: 'r', DisplayName: 'd', Mount: 'm', Namespace: 'n', now: new Date(0) };
    const rnd = (n: number) => 'a'.repeat(n);
    fc.assert(fc.property(fc.string(), (t) => onlyKind('invalid', () => renderName(t, ctx, rnd))), { numRuns: 500 });
    const token = fc.constantFrom('{{', '}}', ' ', '|', '(', ')', '.RoleName', '.Bad', 'random', 'truncate', 'printf', 'lowercase', 'sanitize', 'replace', '"%s"', '"-"', '8', '0', '99', '`x`', '-', 'kl-');
    fc.assert(fc.property(fc.array(token, { maxLength: 30 }), (ts) => onlyKind('invalid', () => renderTemplate(ts.join(''), ctx, rnd))), { numRuns: 2000 });
  });
  test('parseStoredRole(anything) is unprocessable or a Role', () => {
    fc.assert(fc.property(fc.anything(), (v) => onlyKind('unprocessable', () => parseStoredRole('m', 'r', v as Record<string, unknown>))), RUNS);
    fc.assert(fc.property(bodyOf(ROLE_KEYS), (v) => onlyKind('unprocessable', () => parseStoredRole('m', 'r', v))), { numRuns: 500 });
  });
});

describe('invariants', () => {
  test('a role that merges round-trips through storage', () => {
    fc.assert(
      fc.property(bodyOf(ROLE_KEYS), (v) => {
        let role: Role;
        try {
          role = mergeRole('r', undefined, v);
        } catch {
          return;
        }
        expect(parseStoredRole('m', 'r', JSON.parse(JSON.stringify(role)) as Record<string, unknown>)).toEqual(role);
      }),
      { numRuns: 500 },
    );
  });
  test('resolveTtl: result within [floor, min(role max, system max)] or invalid', () => {
    const secs = fc.integer({ min: 0, max: 400_000 });
    fc.assert(
      fc.property(fc.option(secs, { nil: undefined }), secs, secs, (requested, roleDefault, roleMax) => {
        onlyKind('invalid', () => {
          const { ttl } = resolveTtl({ requested, roleDefault, roleMax });
          expect(ttl).toBeGreaterThanOrEqual(600);
          expect(ttl).toBeLessThanOrEqual(86400);
          if (roleMax > 0) expect(ttl).toBeLessThanOrEqual(roleMax);
        });
      }),
      RUNS,
    );
  });
  test('default template always yields a DNS-1123 label ≤ 63 for any valid role name', () => {
    const roleName = fc.stringMatching(/^\w([\w.@-]{0,126}\w)?$/);
    fc.assert(
      fc.property(roleName, fc.stringMatching(/^[a-z0-9]{10}$/), (name, r) => {
        const out = renderName('', { RoleName: name }, () => r);
        expect(out.length).toBeLessThanOrEqual(63);
        expect(out).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      }),
      { numRuns: 500 },
    );
  });
});
