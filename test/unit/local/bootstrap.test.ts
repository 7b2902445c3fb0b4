/**
 * The first run on a machine that has never seen the project: ensureKubeBinaries →
 * scripts/build-kube.sh with stub apt/dpkg/make (test/support/fresh-machine.ts), an empty cache
 * and apt sources without deb-src. Seconds, not a 15-minute build.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { ensureKubeBinaries } from '../../../lib/local/testbed/kube-binaries.js';
import { BedError } from '../../../lib/local/testbed/errors.js';
import { freshMachine, type FreshMachine } from '../../support/fresh-machine.js';

let machine: FreshMachine | undefined;
afterEach(() => machine?.cleanup());

const aptCalls = (m: FreshMachine) => m.calls().filter((c) => /^(apt-get|apt-cache|make|dpkg-source) /.test(c));
const builds = (m: FreshMachine) => m.calls().filter((c) => c.startsWith('make '));

async function bootstrapError(m: FreshMachine): Promise<BedError> {
  const log: string[] = [];
  const err = await ensureKubeBinaries((l) => log.push(l), { env: m.env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BedError)) throw new Error(`expected a BedError, got ${String(err)}; log:\n${log.join('\n')}`);
  return err;
}

test('(a) no deb-src and no cache: a deb-src entry is added, the build runs once, the binaries are cached', async () => {
  machine = freshMachine();
  const dir = await ensureKubeBinaries(() => {}, { env: machine.env });

  expect(dir).toBe(path.join(machine.cache, 'kube-9.9.9-stub-kl1'));
  expect(readdirSync(dir).sort()).toEqual(['kube-apiserver', 'kube-controller-manager']);
  const added = readFileSync(path.join(machine.sourcesDir, 'kubelease-src.sources'), 'utf8');
  expect(added).toContain('Types: deb-src');
  expect(added).toContain('URIs: http://deb.debian.org/debian');
  expect(builds(machine)).toHaveLength(1);
  // showsrc failed (exit 100) before the entry existed, then apt-get update, then it succeeded
  const calls = machine.calls();
  const firstShowsrc = calls.findIndex((c) => c.includes('showsrc'));
  const update = calls.findIndex((c) => c.includes(' update'));
  expect(firstShowsrc).toBeGreaterThanOrEqual(0);
  expect(update).toBeGreaterThan(firstShowsrc);
  expect(calls.slice(update).some((c) => c.includes('showsrc'))).toBe(true);
  expect(readdirSync(machine.cache).filter((d) => d.endsWith('.tmp'))).toEqual([]);
});

test('(b) a cached build: no apt, dpkg-source or make call at all', async () => {
  machine = freshMachine();
  const cached = path.join(machine.cache, 'kube-1.20.2-test-kl1');
  mkdirSync(cached, { recursive: true });
  for (const b of ['kube-apiserver', 'kube-controller-manager']) {
    writeFileSync(path.join(cached, b), '#!/bin/sh\n');
    chmodSync(path.join(cached, b), 0o755);
  }
  await expect(ensureKubeBinaries(() => {}, { env: machine.env })).resolves.toBe(cached);
  expect(aptCalls(machine)).toEqual([]);
});

test('(c) two concurrent callers: exactly one build, both get the same directory, no hang', async () => {
  machine = freshMachine({ STUB_MAKE_SECONDS: '1' });
  const waits: string[] = [];
  const [a, b] = await Promise.all([
    ensureKubeBinaries((l) => waits.push(l), { env: machine.env }),
    ensureKubeBinaries((l) => waits.push(l), { env: machine.env }),
  ]);
  expect(a).toBe(path.join(machine.cache, 'kube-9.9.9-stub-kl1'));
  expect(b).toBe(a);
  expect(builds(machine)).toHaveLength(1);
  expect(waits.filter((l) => l.includes('waiting for it'))).toHaveLength(1);
}, 10_000);

test.each([
  ['apt-get update', { STUB_APT_UPDATE_EXIT: '100' }, /apt-get update failed/, 'apt.log', /E: Failed to fetch/],
  ['apt-get install', { STUB_MISSING_PKGS: 'etcd-server', STUB_APT_INSTALL_EXIT: '100' }, /apt-get install etcd-server failed/, 'apt.log', /Unable to locate package etcd-server/],
  ['apt-get source', { STUB_APT_SOURCE_EXIT: '100' }, /apt-get source kubernetes failed/, 'kube-build.log', /deb-src/],
])('(d) %s failing: exit within seconds, one line naming the step and its log, then the log tail', async (_step, knobs, step, logName, tailLine) => {
  machine = freshMachine(knobs);
  const t0 = Date.now();
  const err = await bootstrapError(machine);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(err.summary).toMatch(step);
  expect(err.summary).toContain(path.join(machine.cache, 'logs', logName));
  expect(err.summary.split('\n')).toHaveLength(1);
  expect(err.detail).toMatch(tailLine);
  expect(builds(machine)).toEqual([]);
}, 20_000);

test('(e) a failing build: the build log tail on the terminal, no half-written cache directory', async () => {
  machine = freshMachine({ STUB_MAKE_EXIT: '2' });
  const err = await bootstrapError(machine);
  expect(err.summary).toMatch(/^kube build: make \(the kube build\) failed/);
  expect(err.detail).toContain('compile: out of memory (stub)');
  expect(readdirSync(machine.cache).filter((d) => d.startsWith('kube-'))).toEqual([]);
  expect(existsSync(path.join(machine.cache, 'kube-9.9.9-stub-kl1.tmp'))).toBe(false);
});

// Generous windows: the whole suite runs beside this test on two cores.
test('a long build that reports progress is waited for; a silent one is stopped with a clear error', async () => {
  machine = freshMachine({ STUB_MAKE_SECONDS: '12', KUBELEASE_PROGRESS_SECONDS: '1' });
  const progress: string[] = [];
  await expect(ensureKubeBinaries((l) => progress.push(l), { env: machine.env, silenceMs: 6_000 })).resolves.toBe(
    path.join(machine.cache, 'kube-9.9.9-stub-kl1'),
  );
  expect(progress.filter((l) => l.includes('still building')).length).toBeGreaterThanOrEqual(3);
  machine.cleanup();

  machine = freshMachine({ STUB_MAKE_SECONDS: '60', KUBELEASE_PROGRESS_SECONDS: '120' });
  const t0 = Date.now();
  const err = await ensureKubeBinaries(() => {}, { env: machine.env, silenceMs: 6_000 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BedError);
  expect((err as BedError).summary).toBe(
    'scripts/build-kube.sh printed nothing for 6 s and was stopped: run `bash scripts/build-kube.sh` by hand to see where it hangs',
  );
  expect(Date.now() - t0).toBeLessThan(40_000);
}, 90_000);

test('a caller waiting for another build reports progress while it waits', async () => {
  machine = freshMachine({ STUB_MAKE_SECONDS: '8', KUBELEASE_PROGRESS_SECONDS: '1' });
  const lines: string[] = [];
  const [a, b] = await Promise.all([
    ensureKubeBinaries((l) => lines.push(l), { env: machine.env, silenceMs: 6_000 }),
    ensureKubeBinaries((l) => lines.push(l), { env: machine.env, silenceMs: 6_000 }),
  ]);
  expect(b).toBe(a);
  expect(builds(machine)).toHaveLength(1);
  expect(lines.some((l) => /still waiting for the other build \(\d+s\)/.test(l))).toBe(true);
}, 90_000);
