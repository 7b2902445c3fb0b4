/** Runs a shell command (`--exec-after`, a template's `command`) with a time limit; output goes to stderr. */
import { spawn } from 'node:child_process';

export const COMMAND_TIMEOUT_MS = 60_000;

export function runShell(command: string, env: NodeJS.ProcessEnv, timeoutMs = COMMAND_TIMEOUT_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', process.stderr, process.stderr] });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, error: e.message });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}
