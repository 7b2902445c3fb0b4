/** kube-apiserver and kube-controller-manager, built from source by scripts/build-kube.sh and cached. */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BedError } from './errors.js';
import { isExecutable } from './is-executable.js';
import { REPO_ROOT, cacheRoot } from './paths.js';
import { signalGroup } from './signals.js';

const execFileP = promisify(execFile);

/** Runs scripts/build-kube.sh (a no-op once cached), streaming its progress; returns the bin dir. */
export async function ensureKubeBinaries(log: (line: string) => void = () => {}): Promise<string> {
  const script = path.join(REPO_ROOT, 'scripts', 'build-kube.sh');
  // Serialise builds: two `npm test` runs (or npm test + npm start) must not both build into the
  // same cache dir. flock(1) is in util-linux (always present on Debian); without it, no lock.
  mkdirSync(cacheRoot(), { recursive: true });
  const lock = path.join(cacheRoot(), 'build.lock');
  let cmd = 'bash';
  let args = [script];
  try {
    await execFileP('flock', ['--nonblock', lock, 'true'], { timeout: 10_000 });
    [cmd, args] = ['flock', [lock, 'bash', script]];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      log(`another build of the kube binaries holds ${lock}: waiting for it to finish`);
      [cmd, args] = ['flock', [lock, 'bash', script]];
    }
  }
  return new Promise((resolve, reject) => {
    // own process group, so that a timeout or our exit (Ctrl-C reaches scripts/test.ts) takes
    // the whole build down with it, make and go included
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killBuild = () => child.pid && child.exitCode === null && signalGroup(child.pid, 'SIGTERM');
    process.once('exit', killBuild);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    let errBuf = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      errBuf += d;
      const lines = errBuf.split('\n');
      errBuf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) log(l.replace(/^\[kubelease test bed\] /, ''));
    });
    // a first build takes ~7 min on 2 cores; anything past 45 min is stuck
    const timer = setTimeout(() => {
      killBuild();
      reject(new BedError('scripts/build-kube.sh made no result in 45 min: run it by hand to see where it hangs'));
    }, 45 * 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      process.off('exit', killBuild);
      reject(new BedError(`cannot run scripts/build-kube.sh: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      process.off('exit', killBuild);
      if (errBuf.trim()) log(errBuf.trim());
      const dir = out.trim().split('\n').pop()?.trim() ?? '';
      if (code === 0 && dir && existsSync(path.join(dir, 'kube-apiserver'))) resolve(dir);
      else reject(new BedError(`scripts/build-kube.sh failed (exit ${code}): see its messages above, fix, and run again`));
    });
  });
}

/** Newest complete build in the cache. */
export function findKubeBinDir(): string {
  const root = cacheRoot();
  const dirs = existsSync(root)
    ? readdirSync(root)
        .filter((d) => d.startsWith('kube-') && !d.endsWith('.tmp'))
        .map((d) => path.join(root, d))
        .filter((d) => isExecutable(path.join(d, 'kube-apiserver')) && isExecutable(path.join(d, 'kube-controller-manager')))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  if (!dirs[0]) throw new BedError(`kube-apiserver is not built yet (nothing in ${root}): run scripts/build-kube.sh`);
  return dirs[0];
}

/** Paths of both binaries in `binDir` (default: the newest cached build); throws if one is missing. */
export function kubeBinaries(binDir = findKubeBinDir()): { apiserverBin: string; kcmBin: string } {
  const apiserverBin = path.join(binDir, 'kube-apiserver');
  const kcmBin = path.join(binDir, 'kube-controller-manager');
  for (const b of [apiserverBin, kcmBin]) if (!isExecutable(b)) throw new BedError(`${b} is missing: run scripts/build-kube.sh`);
  return { apiserverBin, kcmBin };
}
