/** Every ```json block under an "Example:" heading in docs/roles.md must be a valid role. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mergeRole, roleMode } from '../../../lib/domain/index.js';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/roles.md', import.meta.url)), 'utf8');

function exampleBlocks(markdown: string): { heading: string; json: string }[] {
  const out: { heading: string; json: string }[] = [];
  let heading = '';
  let inBlock: 'json' | 'other' | undefined;
  let buf: string[] = [];
  for (const line of markdown.split('\n')) {
    const fence = /^```(\w*)\s*$/.exec(line);
    if (inBlock === undefined && fence) {
      inBlock = fence[1] === 'json' ? 'json' : 'other';
      buf = [];
    } else if (inBlock !== undefined && /^```\s*$/.test(line)) {
      if (inBlock === 'json' && /^#+\s*Example:/.test(heading)) out.push({ heading, json: buf.join('\n') });
      inBlock = undefined;
    } else if (inBlock !== undefined) {
      buf.push(line);
    } else if (/^#+\s/.test(line)) {
      heading = line;
    }
  }
  return out;
}

const blocks = exampleBlocks(doc);

test('docs/roles.md has examples for every mode', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(6);
  const modes = new Set(blocks.map((b) => roleMode(mergeRole('example', undefined, JSON.parse(b.json)))));
  expect([...modes].sort()).toEqual(['bind_role', 'existing_service_account', 'generated_role']);
});

test.each(blocks.map((b) => [b.heading, b.json]))('%s is a valid role', (_heading, json) => {
  expect(() => mergeRole('example-role', undefined, JSON.parse(json))).not.toThrow();
});

test('the extractor only takes json blocks under Example: headings', () => {
  const md = '## Intro\n```json\n{"x":1}\n```\n### Example: one\ntext\n```json\n{"a":1}\n```\n```sh\nls\n```\n## Other\n```json\n{}\n```\n';
  expect(exampleBlocks(md)).toEqual([{ heading: '### Example: one', json: '{"a":1}' }]);
});
