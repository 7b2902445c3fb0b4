/**
 * Pidfiles in <cache>/run: every running bed records its owner, directory and children, so a
 * later run can kill what a crashed one left behind and refuse to share a persisted directory.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDir } from './paths.js';
import { alive, cmdlineOf, parentOf } from './signals.js';

export interface PidFile {
  owner: number;
  dir: string;
  removeDir: boolean;
  procs: { name: string; pid: number; bin: string }[];
}

/** Kill processes recorded by beds whose owner died without stopping them (crash, SIGKILL). */
export function reapLeftovers(log: (line: string) => void = () => {}): void {
  const dir = runDir();
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, f);
    let pf: PidFile;
    try {
      pf = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    if (liveBed(pf)) continue;
    for (const p of pf.procs) {
      // only kill what still is the process we started (pids get recycled)
      if (alive(p.pid) && cmdlineOf(p.pid).includes(p.bin)) {
        log(`killing leftover ${p.name} (pid ${p.pid}) of a crashed run`);
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    }
    if (pf.removeDir && pf.dir.startsWith(path.join(os.tmpdir(), 'kubelease-bed-'))) rmSync(pf.dir, { recursive: true, force: true });
    rmSync(file, { force: true });
  }
}

/**
 * Another bed's owner is alive, or the owner is this process and the bed's children are still its
 * own (a test starting a second bed beside the suite's); a pidfile naming this process without
 * such children is a dead owner's, whose pid was recycled to us.
 */
function liveBed(pf: PidFile): boolean {
  if (pf.owner !== process.pid) return alive(pf.owner);
  return pf.procs.some((p) => parentOf(p.pid) === process.pid);
}

/** the pidfiles of live harnesses whose bed uses `dir` */
export function pidFilesFor(dir: string): PidFile[] {
  const rd = runDir();
  if (!existsSync(rd)) return [];
  const found: PidFile[] = [];
  for (const f of readdirSync(rd).filter((n) => n.endsWith('.json'))) {
    try {
      const pf = JSON.parse(readFileSync(path.join(rd, f), 'utf8')) as PidFile;
      if (path.resolve(pf.dir) === path.resolve(dir) && alive(pf.owner)) found.push(pf);
    } catch {
      /* being written or garbage: ignore */
    }
  }
  return found;
}

/** pid of another live harness whose bed uses `dir`, if any */
export function bedUsing(dir: string): number | undefined {
  return pidFilesFor(dir).find((pf) => pf.owner !== process.pid)?.owner;
}
