/**
 * Polling with a deadline: nothing in the bed sleeps for a fixed time, and a child that dies
 * while we wait fails the start at once with the tail of its log.
 */
import { readFileSync } from 'node:fs';
import { BedError } from './errors.js';
import type { Proc } from './processes.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Poll `check` until it returns a value (not undefined/false); fail fast if `proc` dies. */
export async function waitFor<T>(what: string, proc: Proc | undefined, timeoutMs: number, check: () => Promise<T | undefined | false>, hint = ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  let delay = 50;
  for (;;) {
    if (proc?.exited) throw procFailure(proc, `${proc.name} exited while starting (${what})`);
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    if (Date.now() > deadline) {
      const base = `${what}: not ready after ${Math.round(timeoutMs / 1000)} s${lastErr ? ` (last error: ${lastErr})` : ''}${hint ? `; ${hint}` : ''}`;
      throw proc ? procFailure(proc, base) : new BedError(base);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}

function procFailure(proc: Proc, summary: string): BedError {
  const logTail = tail(proc.logFile);
  const busy = /address already in use|bind: address|Address already in use|BindException/i.test(logTail);
  const line = busy
    ? `${proc.name}: a port it was given is busy (another process took it after we probed it)`
    : `${summary}: see ${proc.logFile}`;
  return new BedError(line, logTail ? `  last lines of ${proc.logFile}:\n${logTail}` : '', busy);
}

function tail(file: string, lines = 25): string {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '';
  }
}
