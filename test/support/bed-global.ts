/**
 * The real test bed for the jest `integration` and `reliability` projects, started by their
 * globalSetup and stopped by their globalTeardown (bed-global-setup.mjs /
 * bed-global-teardown.mjs, which load this file through tsx: jest imports global hooks natively).
 * Jest runs a hook path once however many projects name it, and only when a test of such a
 * project is selected, so unit/infra runs never start the bed. Builds/checks the kube binaries,
 * starts the bed once and points KUBELEASE_BED (read by test/support/bed.ts in every worker) at
 * its description; Ctrl-C / SIGTERM stop it too.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BedError, ensureKubeBinaries, startTestBed, type TestBed } from '../../lib/local/testbed/index.js';

const say = (msg: string) => process.stderr.write(`[kubelease test bed] ${msg}\n`);

// setup and teardown each load this file anew (tsImport keeps no module cache between calls):
// the running bed is kept on jest's global object
declare global {
  var kubeleaseBedStop: (() => Promise<void>) | undefined;
}

export async function stopBed(): Promise<void> {
  await globalThis.kubeleaseBedStop?.();
  globalThis.kubeleaseBedStop = undefined;
}

export async function startBed(): Promise<void> {
  const t0 = Date.now();
  let bed: TestBed;
  try {
    // installs what the bed runs on (etcd, a JDK, kubectl) and builds the kube binaries once
    const kubeBinDir = await ensureKubeBinaries((l) => say(l));
    say('starting etcd, kube-apiserver, kube-controller-manager, DynamoDB Local');
    bed = await startTestBed({ kubeBinDir, log: (l) => say(l) });
  } catch (e) {
    // a BedError names the failed step and what to do: that is the line to end on
    if (e instanceof BedError) say(e.message);
    throw e;
  }
  const file = path.join(bed.dir, 'bed.json');
  writeFileSync(file, JSON.stringify(bed.info(), null, 2), { mode: 0o600 });
  process.env.KUBELEASE_BED = file;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      rmSync(file, { force: true });
      const t = Date.now();
      await bed.stop();
      say(`test bed stopped (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    })());
  globalThis.kubeleaseBedStop = stop;
  // Ctrl-C reaches jest too: stop the bed in order before jest goes away
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(sig, () => void stop().finally(() => process.exit(code)));
  }
  say(`bed ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; description in ${file}`);
}
