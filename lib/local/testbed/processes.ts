/**
 * The bed's child processes: each in its own process group with its output in logs/<name>.log,
 * recorded in a pidfile, stopped in order, and SIGKILLed synchronously if the harness exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { runDir } from './paths.js';
import type { PidFile } from './pidfile.js';
import { signalGroup } from './signals.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Proc {
  name: string;
  bin: string;
  child: ChildProcess;
  logFile: string;
  exit: Promise<void>;
  exited: boolean;
}

export class Supervisor {
  readonly procs: Proc[] = [];
  private readonly pidFile: string;
  private readonly exitHook = () => this.killAllSync();

  constructor(private readonly dir: string, private readonly logDir: string, private readonly removeDir: boolean) {
    mkdirSync(runDir(), { recursive: true });
    this.pidFile = path.join(runDir(), `bed-${process.pid}-${path.basename(dir)}.json`);
    this.writePidFile();
    // last resort if the harness exits without stop(): synchronous SIGKILL of the whole bed
    process.on('exit', this.exitHook);
  }

  private writePidFile(): void {
    const pf: PidFile = {
      owner: process.pid,
      dir: this.dir,
      removeDir: this.removeDir,
      procs: this.procs.filter((p) => p.child.pid).map((p) => ({ name: p.name, pid: p.child.pid!, bin: p.bin })),
    };
    writeFileSync(this.pidFile, JSON.stringify(pf, null, 2));
  }

  start(name: string, bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
    const logFile = path.join(this.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      // own process group: Ctrl-C in the terminal reaches the harness, which stops the bed in order
      child = spawn(bin, args, { cwd: opts.cwd ?? this.dir, env: opts.env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    const proc: Proc = { name, bin, child, logFile, exited: false, exit: Promise.resolve() };
    proc.exit = new Promise<void>((resolve) => {
      child.once('exit', () => {
        proc.exited = true;
        resolve();
      });
      child.once('error', (e) => {
        proc.exited = true;
        writeFileSync(logFile, `spawn failed: ${e.message}\n`, { flag: 'a' });
        resolve();
      });
    });
    this.procs.push(proc);
    this.writePidFile();
    return proc;
  }

  async stopOne(p: Proc, graceMs = 5000): Promise<void> {
    if (p.exited || !p.child.pid) return;
    signalGroup(p.child.pid, 'SIGTERM');
    // the grace timers must not hold the process open once the child is gone
    const done = await Promise.race([p.exit.then(() => true), sleep(graceMs, false, { ref: false })]);
    if (!done) {
      signalGroup(p.child.pid, 'SIGKILL');
      await Promise.race([p.exit, sleep(2000, undefined, { ref: false })]);
    }
  }

  /** kcm, apiserver and DynamoDB first, etcd last (the apiserver needs it to shut down cleanly). */
  async stopAll(): Promise<void> {
    const last = this.procs.filter((p) => p.name === 'etcd');
    await Promise.all(this.procs.filter((p) => p.name !== 'etcd').map((p) => this.stopOne(p)));
    await Promise.all(last.map((p) => this.stopOne(p)));
    process.off('exit', this.exitHook);
    rmSync(this.pidFile, { force: true });
  }

  killAllSync(): void {
    for (const p of this.procs) if (!p.exited && p.child.pid) signalGroup(p.child.pid, 'SIGKILL');
    try {
      unlinkSync(this.pidFile);
    } catch {
      /* already gone */
    }
    if (this.removeDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
