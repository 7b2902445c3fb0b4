/**
 * The Lambda bundles take `yaml` from its ES module build (infra/bundling.ts, issue 13): role
 * rules and namespace selectors, parsed by the bundled code, must read exactly as the sources
 * (on yaml's Node build) read them, errors included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { lambdaEsbuildOptions } from '../../infra/bundling.js';
import { parseStructuredText as fromSources } from '../../lib/domain/structured-text.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let out: string;
let inputs: string[];
let bundled: typeof fromSources;

beforeAll(async () => {
  out = mkdtempSync(path.join(os.tmpdir(), 'kl-yaml-'));
  const result = await build({ ...lambdaEsbuildOptions({ text: path.join(ROOT, 'lib/domain/structured-text.ts') }, out), metafile: true, logLevel: 'silent' });
  inputs = Object.keys((result.metafile as Metafile).inputs);
  ({ parseStructuredText: bundled } = (await import(pathToFileURL(path.join(out, 'text.mjs')).href)) as { parseStructuredText: typeof fromSources });
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

test("the bundle holds yaml's ES module build, not its CommonJS one", () => {
  const yamlFiles = inputs.filter((f) => f.includes('node_modules/yaml/'));
  expect(yamlFiles.length).toBeGreaterThan(20);
  expect(yamlFiles.filter((f) => !f.includes('node_modules/yaml/browser/'))).toEqual([]);
});

const outcome = (parse: typeof fromSources, text: string) => {
  try {
    return { value: parse(text, 'generated_role_rules') };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

test.each([
  ['YAML rules', 'rules:\n  - apiGroups: [""]\n    resources: ["pods"]\n    verbs: ["get", "list"]\n', { value: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] } }],
  ['JSON rules', '{"rules":[{"apiGroups":["apps"],"resources":["deployments"],"verbs":["*"]}]}', { value: { rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] }] } }],
  ["Vault's single-quoted pseudo-JSON with a stray leading quote", "'{'matchLabels':{'stage':'prod'}}", { value: { matchLabels: { stage: 'prod' } } }],
  ['a YAML 1.1 boolean stays a string in YAML 1.2', 'stage: yes', { value: { stage: 'yes' } }],
  ['duplicate keys', 'a: 1\na: 2', { error: 'generated_role_rules: is neither valid JSON nor YAML (Map keys must be unique)' }],
  ['an unclosed flow mapping', '{"rules": [', { error: expect.stringMatching(/^generated_role_rules: is neither valid JSON nor YAML \(/) as unknown }],
])('%s: the bundle reads it as the sources do', (_case, text, expected) => {
  expect(outcome(bundled, text)).toEqual(expected);
  expect(outcome(bundled, text)).toEqual(outcome(fromSources, text));
});
