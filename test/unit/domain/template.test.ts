import { DEFAULT_NAME_TEMPLATE, renderName, renderTemplate, checkTemplateSyntax } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

const rnd = (n: number) => 'r'.repeat(n);
const ctx = { RoleName: 'ci-deployer', DisplayName: 'Build.Bot@Example', Mount: 'prod', Namespace: 'apps', now: new Date('2025-01-02T03:04:05.678Z') };

describe('renderTemplate', () => {
  test.each<[string, string]>([
    ['plain-text', 'plain-text'],
    ['{{.RoleName}}', 'ci-deployer'],
    ['{{ .Mount }}-{{ .Namespace }}', 'prod-apps'],
    ['{{.DisplayName}}', 'Build.Bot@Example'],
    ['{{random 8}}', 'rrrrrrrr'],
    ['{{unix_time}}', '1735787045'],
    ['{{unix_time_millis}}', '1735787045678'],
    ['{{truncate 5 .RoleName}}', 'ci-de'],
    ['{{truncate 50 .RoleName}}', 'ci-deployer'],
    ['{{lowercase .DisplayName}}', 'build.bot@example'],
    ['{{uppercase .RoleName}}', 'CI-DEPLOYER'],
    ['{{replace "-" "_" .RoleName}}', 'ci_deployer'],
    ['{{sanitize .DisplayName}}', 'build-bot-example'],
    ['{{.DisplayName | lowercase | truncate 10}}', 'build.bot@'],
    ['{{ .RoleName | truncate 2 | uppercase }}', 'CI'],
    ['{{printf "v-%s-%d-%%" .RoleName 42}}', 'v-ci-deployer-42-%'],
    ['{{ printf "v-%s-%s" (.DisplayName | sanitize | truncate 5) (random 3) | lowercase }}', 'v-build-rrr'],
    ['{{ "lit" }}-{{ `raw` }}', 'lit-raw'],
    ['a {{- .Mount -}} b', 'aprodb'],
  ])('%s → %s', (template, out) => {
    expect(renderTemplate(template, ctx, rnd)).toBe(out);
  });

  test.each<[string, string]>([
    ['{{.RoleName', 'missing "}}"'],
    ['}}', 'unexpected "}}"'],
    ['{{}}', 'empty action'],
    ['{{.Secret}}', 'unknown field .Secret'],
    ['{{exec "rm"}}', 'unknown function "exec"'],
    ['{{random}}', 'random takes 1 argument(s), got 0'],
    ['{{random 0}}', 'random takes a length from 1 to 64'],
    ['{{random 65}}', 'random takes a length from 1 to 64'],
    ['{{truncate .RoleName}}', 'truncate takes 2 argument(s), got 1'],
    ['{{truncate "x" .RoleName}}', 'truncate needs an integer'],
    ['{{.RoleName .Mount}}', 'a value cannot take arguments'],
    ['{{.RoleName | .Mount}}', 'only a function can follow "|"'],
    ['{{lowercase (.RoleName}}', 'missing ")"'],
    ['{{"unterminated}}', 'unterminated string'],
    ['{{printf "%s"}}', 'missing argument for %s'],
    ['{{printf "%s" .RoleName .Mount}}', 'extra argument'],
    ['{{printf "%x" .RoleName}}', 'only %s, %d, %v'],
    ['{{lowercase random 3}}', 'wrap it in parentheses'],
    ['{{ .RoleName & }}', 'unexpected character "&"'],
    ['{{replace "" "x" .RoleName}}', 'non-empty string to find'],
    ['x'.repeat(1025), 'longer than 1024'],
  ])('%s is rejected: %s', (template, fragment) => {
    expectInvalid(() => renderTemplate(template, ctx, rnd), 'name_template: ', fragment);
  });

  test('deep nesting is bounded', () => {
    const deep = `{{ ${'lowercase ('.repeat(20)}.RoleName${')'.repeat(20)} }}`;
    expectInvalid(() => checkTemplateSyntax(deep), 'name_template: nested too deeply');
  });
  test('output size is bounded', () => {
    expectInvalid(() => renderTemplate('{{random 64}}'.repeat(5), ctx, rnd), 'too much randomness');
  });
});

describe('renderName', () => {
  test('default template: kl-<role>-<random>', () => {
    expect(renderName('', { RoleName: 'ci-deployer' }, (n) => 'abc123xyz0'.slice(0, n))).toBe('kl-ci-deployer-abc123xyz0');
    expect(DEFAULT_NAME_TEMPLATE).toContain('kl-');
  });
  test('default template stays within 63 chars with a 60-char role name', () => {
    const name = renderName('', { RoleName: 'R'.repeat(60) }, (n) => 'Z'.repeat(n));
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^kl-r{48}-z{10}$/);
  });
  test('default template sanitizes Vault role names (upper case, "_", ".", "@")', () => {
    expect(renderName('', { RoleName: 'My_Role.v2@Team' }, (n) => '0'.repeat(n))).toBe('kl-my-role-v2-team-0000000000');
  });
  test('output that is not a DNS-1123 label is rejected, showing it', () => {
    expectInvalid(() => renderName('{{.DisplayName}}', ctx, rnd), 'name_template: renders "Build.Bot@Example"', 'DNS-1123');
    expectInvalid(() => renderName('{{random 64}}', ctx, rnd), 'name_template: renders', 'DNS-1123');
    expectInvalid(() => renderName('-x', ctx, rnd), 'name_template: renders "-x"');
  });
  test('a custom template that produces a valid label', () => {
    expect(renderName('{{ printf "ci-%s-%s" (.RoleName | truncate 20) (random 8) }}', ctx, rnd)).toBe('ci-ci-deployer-rrrrrrrr');
  });
});
