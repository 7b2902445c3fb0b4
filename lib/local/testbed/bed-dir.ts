/** The bed's working directory: a fresh temp dir, or dataDir when persisted (npm start). */
import { promises as fsp, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BedError } from './errors.js';
import { bedUsing } from './pidfile.js';
import { REPO_ROOT, cacheRoot } from './paths.js';

/** Creates the bed's directory and its logs/; refuses a persisted dir another live bed uses. */
export async function makeBedDir(persist: boolean, dataDirOpt: string | undefined): Promise<{ dir: string; logDir: string }> {
  const dataDir = path.resolve(dataDirOpt ?? path.join(REPO_ROOT, '.kubelease', 'bed'));
  const dir = persist ? dataDir : await fsp.mkdtemp(path.join(os.tmpdir(), 'kubelease-bed-'));
  if (persist) {
    const holder = bedUsing(dir);
    if (holder) throw new BedError(`another kubelease bed (pid ${holder}) is running on ${dir}: stop it first, or pass a different dataDir`);
  }
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  return { dir, logDir };
}

/**
 * After a failed start: keep the logs where the next person can read them (<cache>/last-failed-bed-logs),
 * stop the bed, and return the error to throw, as a BedError pointing at the kept logs.
 */
export async function failedStart(e: unknown, logDir: string, stop: () => Promise<void>): Promise<BedError> {
  const kept = path.join(cacheRoot(), 'last-failed-bed-logs');
  try {
    rmSync(kept, { recursive: true, force: true });
    await fsp.cp(logDir, kept, { recursive: true });
  } catch {
    /* best effort */
  }
  await stop().catch(() => {});
  const relocate = (s: string) => s.split(logDir).join(kept);
  if (e instanceof BedError) return new BedError(relocate(e.summary), relocate(e.detail), e.portTaken);
  const msg = (e as Error).message ?? String(e);
  return new BedError(`test bed failed to start: ${msg.split('\n')[0]}`, `  logs: ${kept}`);
}
