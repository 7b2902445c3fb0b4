/** Every ```json block under an "Example:" heading in docs/roles.md must be a valid role. */
import { mergeRole, roleMode } from '../../../lib/domain/index.js';
import { exampleBlocks, roleExamples } from '../../support/doc-examples.js';

const blocks = roleExamples();

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
