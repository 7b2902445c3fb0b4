/**
 * Synth with bundling on, as `cdk synth` / `cdk deploy` run it from this repository: each of the six
 * functions gets its own bundle (CDK caches bundling per source directory and options, so a shared
 * key would deploy one function's code six times), built by esbuild's API with the client-node
 * pruning plugin (infra/bundling.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { pruneClientNode } from '../../infra/prune-client-node.js';
import { ROOT, buildStack, bundleOf as bundleOfIn, bundledFunctions, tracerIn } from './support.js';

const functions = bundledFunctions(buildStack({}, {}, { 'aws:cdk:bundling-stacks': ['**'] }));
const bundleOf = (fn: string): string => bundleOfIn(functions, fn);

test('six functions, six bundles of their own, each an ES module with its source map', () => {
  expect(functions.map((f) => f.description).sort()).toEqual(['kubelease config', 'kubelease creds', 'kubelease expire', 'kubelease leases', 'kubelease roles', 'kubelease sweep']);
  expect(new Set(functions.map((f) => f.asset)).size).toBe(6);
  for (const f of functions) {
    expect(f.handler).toBe('index.handler');
    expect(statSync(join(f.asset, 'index.mjs')).isFile()).toBe(true);
    expect(statSync(join(f.asset, 'index.mjs.map')).isFile()).toBe(true);
  }
});

test('the bundles keep only the client-node calls the broker makes, and stay under 1 MB (issue 13)', () => {
  const creds = readFileSync(bundleOf('creds'), 'utf8');
  expect({ tokenRequest: creds.includes('createNamespacedServiceAccountToken'), podList: creds.includes('listNamespacedPod'), podSpecModel: creds.includes('V1PodSpec') }).toEqual({
    tokenRequest: true,
    podList: false,
    podSpecModel: false,
  });
  for (const fn of ['config', 'roles', 'creds', 'leases', 'expire', 'sweep']) expect(statSync(bundleOf(fn)).size).toBeLessThan(1_000_000);
});

/** a bundle of CoreV1Api's request factory and response processor, with `calls` kept */
async function bundleCoreV1(calls: Record<string, string[]>): Promise<string> {
  const result = await build({
    stdin: {
      contents:
        "import { CoreV1ApiRequestFactory, CoreV1ApiResponseProcessor } from '@kubernetes/client-node/dist/gen/apis/CoreV1Api.js'; export const f = [CoreV1ApiRequestFactory, CoreV1ApiResponseProcessor];",
      resolveDir: fileURLToPath(ROOT),
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
    plugins: [pruneClientNode(calls)],
  });
  return result.outputFiles[0]?.text ?? '';
}

test('the plugin keeps the listed calls and the models they reach, and nothing else', async () => {
  const out = await bundleCoreV1({ CoreV1Api: ['readNamespace'] });
  const holds = (text: string) => out.includes(text);
  expect({
    readNamespace: holds('async readNamespace('),
    readNamespaceWithHttpInfo: holds('async readNamespaceWithHttpInfo('),
    readNamespacedPod: holds('readNamespacedPod'),
    namespaceModel: holds('"V1Namespace": V1Namespace'),
    namespaceConditionModel: holds('"V1NamespaceCondition": V1NamespaceCondition'),
    podModel: holds('"V1Pod": V1Pod'),
  }).toEqual({ readNamespace: true, readNamespaceWithHttpInfo: true, readNamespacedPod: false, namespaceModel: true, namespaceConditionModel: true, podModel: false });
});

test('a call listed but not generated fails the build, naming it', async () => {
  await expect(bundleCoreV1({ CoreV1Api: ['readNamespace', 'readNamespacedUnicorn'] })).rejects.toThrow(
    /CoreV1ApiRequestFactory\.readNamespacedUnicorn is listed in GENERATED_CALLS but not in/,
  );
});

test('with tracing off (the default), the bundles leave the X-Ray tracer out', () => {
  for (const fn of ['config', 'roles', 'creds', 'leases', 'expire', 'sweep']) {
    const code = readFileSync(bundleOf(fn), 'utf8');
    expect({ fn, ...tracerIn(code) }).toEqual({ fn, xray: false, leftOut: true });
  }
});
