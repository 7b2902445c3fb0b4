/**
 * README's layout table states the enforced parts: one row per part of eslint.config.js, with
 * the part's paths in the first column and exactly its allowed parts in "may import".
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEPLOYED, parts } from '../../../eslint.config.js';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

interface Row {
  paths: string[];
  part: string;
  mayImport: string;
}

function layoutRows(): Row[] {
  const section = README.slice(README.indexOf('## Layout'));
  const table = section.split('\n').filter((l) => l.startsWith('| `'));
  return table.map((line) => {
    const [paths = '', part = '', , mayImport = ''] = line.split('|').slice(1).map((c) => c.trim());
    const ticks = (s: string) => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    return { paths: ticks(paths), part: ticks(part)[0] ?? '', mayImport };
  });
}

const rows = layoutRows();
const ticked = (s: string) => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
/** `lib/domain/**` → `lib/domain/`; a file pattern stays as it is. */
const shown = (pattern: string) => pattern.replace(/\*\*$/, '');

test('every part has one row, naming its paths', () => {
  expect(rows.filter((r) => r.part !== '').map((r) => r.part).sort()).toEqual(parts.map((p) => p.type).sort());
  for (const p of parts) {
    const row = rows.find((r) => r.part === p.type)!;
    const patterns = [p.pattern].flat().filter((x: string) => !x.startsWith('*'));
    expect(row.paths).toEqual(patterns.map(shown));
  }
});

test('"may import" lists exactly the parts each part may import', () => {
  const names = new Set(parts.map((p) => p.type));
  for (const p of parts) {
    const row = rows.find((r) => r.part === p.type)!;
    if (p.imports.includes('*')) expect(row.mayImport).toBe('everything');
    else expect(ticked(row.mayImport).filter((t) => names.has(t)).sort()).toEqual([...p.imports].sort());
  }
});

test('the deployed parts are the ones README says never import the local stack, fakes or CDK', () => {
  const line = README.split('\n').find((l) => l.startsWith('Nothing deployed'))!;
  expect(line).toContain('(`domain` … `functions`)');
  expect(DEPLOYED).toEqual(parts.map((p) => p.type).filter((t) => DEPLOYED.includes(t)));
  expect([DEPLOYED[0], DEPLOYED[DEPLOYED.length - 1]]).toEqual(['domain', 'functions']);
  expect(ticked(line.split('imports')[1]!)).toEqual(['local', 'fakes', 'tests']);
});
