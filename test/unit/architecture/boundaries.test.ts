/**
 * The architecture is a lint rule (eslint.config.js, `parts`): each fixture under
 * test/fixtures/boundaries/ is linted as if it sat at the path its first line names, and must
 * fail `npm run lint` on exactly the import lines marked `// violation` — and on no other line.
 * The fixtures are outside the normal lint run (eslint.config.js ignores test/fixtures/).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(ROOT, 'test', 'fixtures', 'boundaries');
const eslint = new ESLint({ cwd: ROOT });

interface Fixture {
  name: string;
  lintAs: string;
  text: string;
  violations: number[];
}

function fixture(name: string): Fixture {
  const text = readFileSync(join(FIXTURES, name), 'utf8');
  const lintAs = /^\/\/ lint as: (\S+)/.exec(text)?.[1];
  if (!lintAs) throw new Error(`${name}: first line must be "// lint as: <path>"`);
  const violations = text.split('\n').flatMap((line, i) => (line.endsWith('// violation') ? [i + 1] : []));
  return { name, lintAs, text, violations };
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.ts')).sort().map(fixture);

test('there are fixtures for every rule the issue names', () => {
  expect(fixtures.map((f) => f.name)).toEqual([
    'adapter-reaches-up.ts',
    'client-reaches-in.ts',
    'deployed-takes-test-doubles.ts',
    'domain-impure.ts',
    'engine-reaches-out.ts',
    'function-reaches-out.ts',
    'infra-reaches-in.ts',
  ]);
});

test.each(fixtures.map((f) => [f.name, f] as const))('%s fails lint on its marked imports only', async (_name, f) => {
  const [result] = await eslint.lintText(f.text, { filePath: join(ROOT, f.lintAs) });
  const boundaryLines = result!.messages.filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.line);
  expect(f.violations.length).toBeGreaterThan(0);
  expect(boundaryLines).toEqual(f.violations);
  expect(result!.messages.filter((m) => m.ruleId !== 'boundaries/dependencies')).toEqual([]);
});
