/** kube-apiserver and kube-controller-manager, built from source by scripts/build-kube.sh and cached. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { BedError } from './errors.js';
import { isExecutable } from './is-executable.js';
import { REPO_ROOT, cacheRoot } from './paths.js';
import { signalGroup } from './signals.js';

/**
 * Runs scripts/build-kube.sh (a no-op once cached), streaming its progress; returns the bin dir.
 * The script owns the build lock, so concurrent callers wait for one build and then reuse it.
 */
export async function ensureKubeBinaries(
  log: (line: string) => void = () => {},
  opts: { env?: NodeJS.ProcessEnv; silenceMs?: number } = {},
): Promise<string> {
  const script = path.join(REPO_ROOT, 'scripts', 'build-kube.sh');
  const env = opts.env ?? process.env;
  mkdirSync(cacheRoot(env), { recursive: true });
  return new Promise((resolve, reject) => {
    // own process group, so that a timeout or our exit (Ctrl-C reaches scripts/test.ts) takes
    // the whole build down with it, make and go included
    const child = spawn('bash', [script], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killBuild = () => child.pid && child.exitCode === null && signalGroup(child.pid, 'SIGTERM');
    process.once('exit', killBuild);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const lines = createInterface({ input: child.stderr });
    const tail: string[] = [];
    lines.on('line', (raw) => {
      const l = raw.replace(/^\[kubelease test bed\] /, '');
      if (!l.trim()) return;
      log(l);
      tail.push(l);
      if (tail.length > 40) tail.shift();
    });
    const closed = new Promise<void>((r) => lines.once('close', r));
    // The script reports progress every 30 s while it builds or waits for another build, and apt
    // steps have their own timeouts: 15 minutes of silence means it hangs. A build that makes
    // progress may take as long as it takes (45 min were seen on a loaded 2-core machine).
    const silenceMs = opts.silenceMs ?? 15 * 60_000;
    let timer: NodeJS.Timeout | undefined;
    const armSilenceTimer = () => {
      clearTimeout(timer);
      if (child.exitCode !== null || child.signalCode !== null) return;
      timer = setTimeout(() => {
        killBuild();
        reject(new BedError(`scripts/build-kube.sh printed nothing for ${Math.round(silenceMs / 1000)} s and was stopped: run \`bash scripts/build-kube.sh\` by hand to see where it hangs`));
      }, silenceMs);
    };
    armSilenceTimer();
    lines.on('line', armSilenceTimer);
    child.on('error', (e) => {
      clearTimeout(timer);
      process.off('exit', killBuild);
      reject(new BedError(`cannot run scripts/build-kube.sh: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', killBuild);
      void closed.then(() => {
        clearTimeout(timer);
        const dir = out.trim().split('\n').pop()?.trim() ?? '';
        if (code === 0 && dir && existsSync(path.join(dir, 'kube-apiserver'))) return resolve(dir);
        reject(buildFailure(code ?? signal ?? 'unknown', tail));
      });
    });
  });
}

/** The script's own error line as the summary, the lines before it (log tails) as detail. */
function buildFailure(exit: number | string, tail: string[]): BedError {
  const errorAt = tail.findLastIndex((l) => l.startsWith('error: '));
  if (errorAt < 0) {
    const detail = tail.slice(-15).map((l) => `  ${l}`).join('\n');
    return new BedError(`scripts/build-kube.sh failed (exit ${exit}) without naming a step; run \`bash scripts/build-kube.sh\` to see it`, detail);
  }
  const detail = tail.slice(errorAt + 1).join('\n');
  return new BedError(`kube build: ${tail[errorAt]!.slice('error: '.length)}`, detail);
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
