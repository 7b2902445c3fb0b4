/**
 * The X-Ray tracer is bundled only where it can run: synth with `tracing: true` puts Powertools
 * Tracer and the X-Ray SDK into every function; with tracing off (test/infra/bundling.test.ts)
 * they are left out, and a bundle without them that is asked to trace serves untraced.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleLambdaEntry } from '../../infra/bundling.js';
import { ROOT, buildStack, bundleOf, bundledFunctions, tracerIn } from './support.js';

const traced = bundledFunctions(buildStack({ tracing: true }, {}, { 'aws:cdk:bundling-stacks': ['**'] }));
const FUNCTIONS = ['config', 'creds', 'expire', 'leases', 'roles', 'sweep'];

test('with tracing on, every function carries the tracer', () => {
  expect(traced.map((f) => f.description.replace('kubelease ', '')).sort()).toEqual(FUNCTIONS);
  for (const fn of FUNCTIONS) {
    const code = readFileSync(bundleOf(traced, fn), 'utf8');
    expect({ fn, ...tracerIn(code) }).toEqual({ fn, xray: true, leftOut: false });
  }
});

test('a bundle without the tracer, started with tracing requested, warns once and serves untraced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kl-no-tracer-'));
  try {
    await bundleLambdaEntry(join(fileURLToPath(ROOT), 'functions', 'creds.ts'), dir, { tracer: false });
    const tracedSize = statSync(bundleOf(traced, 'creds')).size;
    // Powertools Tracer, the X-Ray SDK and what it pulls in (semver, cls-hooked): about 125 KB
    expect(tracedSize - statSync(join(dir, 'index.mjs')).size).toBeGreaterThan(100_000);
    const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)}); process.stdout.write('handler ' + typeof handler + '\\n');`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'not-a-secret',
        POWERTOOLS_TRACE_ENABLED: 'true',
        KUBELEASE_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000',
        KUBELEASE_CONFIG_TABLE: 'config',
        KUBELEASE_ROLES_TABLE: 'roles',
        KUBELEASE_LEASES_TABLE: 'leases',
      },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    const warnings = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => line.includes('tracing was requested but is off'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({
      level: 'WARN',
      message: 'tracing was requested but is off: this bundle was built without the X-Ray tracer (tracing: false at synth); deploy with tracing: true to trace',
    });
    expect(run.stdout).toContain('handler function');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

