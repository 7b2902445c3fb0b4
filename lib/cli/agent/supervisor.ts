/**
 * Supervisor mode (Vault Agent's `exec`): the child runs with KUBECONFIG set, gets the signals
 * the agent gets, and its exit code becomes the agent's (128 + n for a signal).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { CliError } from '../core/errors.js';

export interface Child {
  exited: Promise<number>;
  signal(sig: NodeJS.Signals): void;
}

export function startChild(argv: string[], env: NodeJS.ProcessEnv): Child {
  const [cmd, ...args] = argv;
  if (!cmd) throw new CliError('no child command after --', 2, 'give the command to run, e.g. -- kubectl get pods');
  let child: ChildProcess;
  const exited = new Promise<number>((resolve, reject) => {
    child = spawn(cmd, args, { env, stdio: 'inherit' });
    child.on('error', (e) => reject(new CliError(`cannot start ${cmd} (${(e as NodeJS.ErrnoException).code ?? e.message})`, 1, 'check the command after --')));
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 1) : 1)));
  });
  return {
    exited,
    signal: (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
}
