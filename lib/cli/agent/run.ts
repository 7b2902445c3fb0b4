/**
 * The agent: every credential issued and delivered, listeners up, then it runs until a signal,
 * the child's exit (supervisor mode) or a token that expired without a successor (exit 1).
 * With revoke-on-exit, its leases are revoked on SIGTERM/SIGINT and when the child exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { CliError, errorLine } from '../core/errors.js';
import type { Broker } from '../client/broker.js';
import { credsBody } from '../core/creds-request.js';
import { runShell } from './command-runner.js';
import { checkTemplates, kubeconfigFor, makeDelivery } from './deliver.js';
import { startListener, type Listener } from './listener.js';
import { Renewer } from './renewer.js';
import { startChild, type Child } from './supervisor.js';
import type { AgentConfig, CredentialSpec, Issued } from './types.js';

export interface AgentRun {
  config: AgentConfig;
  broker: Broker;
  env: NodeJS.ProcessEnv;
  child: string[];
  log(line: string): void;
  refreshAfterMs?: number | undefined;
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

async function issue(broker: Broker, spec: CredentialSpec): Promise<Issued> {
  const started = Date.now();
  const res = await broker.creds(spec.mount, spec.role, credsBody(spec));
  if (!res.data.kubernetes_host) throw new CliError('the broker did not say where the cluster is (no kubernetes_host in the creds response)', 1, 'upgrade the broker');
  return {
    leaseId: res.lease_id,
    token: res.data.service_account_token,
    leaseSeconds: res.lease_duration,
    issuedAtMs: started,
    expiresAtMs: started + res.lease_duration * 1000,
    namespace: res.data.service_account_namespace,
    serviceAccount: res.data.service_account_name,
    server: res.data.kubernetes_host,
    caPem: res.data.kubernetes_ca_cert ?? '',
  };
}

export async function runAgent(a: AgentRun): Promise<number> {
  const { config, broker, log } = a;
  for (const c of config.credentials) checkTemplates(c);
  const run = async (command: string, label: string) => {
    const r = await runShell(command, a.env);
    if (r.code !== 0) log(`${label} failed (${r.error ?? (r.signal ? `signal ${r.signal}` : `exit ${r.code}`)}): ${command}`);
  };

  let fatal: (e: Error) => void = () => {};
  const fatalError = new Promise<Error>((resolve) => (fatal = resolve));
  const renewers = config.credentials.map(
    (spec) =>
      new Renewer({
        name: spec.name,
        issue: () => issue(broker, spec),
        deliver: makeDelivery(spec, { log, run }),
        onFatal: (e) => fatal(e),
        log,
        refreshAfterMs: a.refreshAfterMs,
      }),
  );
  const listeners: Listener[] = [];
  let tempDir: string | undefined;
  let child: Child | undefined;

  const revokeAll = async () => {
    const now = Date.now();
    for (const r of renewers) {
      for (const i of r.issued.filter((x) => x.expiresAtMs > now)) {
        try {
          await broker.revoke(i.leaseId);
          log(`revoked ${i.leaseId}`);
        } catch (e) {
          log(`could not revoke ${i.leaseId}: ${errorLine(e).replace(/^kubelease: /, '')}`);
        }
      }
    }
  };
  const shutdown = async (revoke: boolean) => {
    for (const r of renewers) r.stop();
    await Promise.all(listeners.map((l) => l.close()));
    if (revoke) await revokeAll();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };

  // first issuance: any failure ends the agent (a service manager restarts it)
  const first = await Promise.allSettled(renewers.map((r) => r.start()));
  const failed = first.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await shutdown(config.revokeOnExit);
    throw failed.reason;
  }
  log(`authenticated: ${config.credentials.map((c) => c.name).join(', ')}`);
  if (config.exitAfterAuth) {
    await shutdown(false);
    return 0;
  }

  for (const [i, spec] of config.credentials.entries()) {
    if (!spec.listener) continue;
    const r = renewers[i]!;
    try {
      const l = await startListener(spec.listener, () => r.current, log);
      listeners.push(l);
      log(`${spec.name}: listening on ${l.url} → ${r.current?.server ?? ''}`);
    } catch (e) {
      await shutdown(config.revokeOnExit);
      throw new CliError(`${spec.name}: cannot listen on ${spec.listener.host}:${spec.listener.port} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 1, 'pick a free port');
    }
  }

  let signalled: ((sig: NodeJS.Signals) => void) | undefined;
  const gotSignal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    if (child) child.signal(sig);
    else signalled?.(sig);
  };
  for (const s of SIGNALS) process.on(s, onSignal);

  try {
    if (a.child.length > 0) {
      const kubeconfig = childKubeconfig(config, renewers, (dir) => (tempDir = dir));
      child = startChild(a.child, { ...a.env, ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}) });
      const outcome = await Promise.race([child.exited.then((code) => ({ code })), fatalError.then((error) => ({ error }))]);
      if ('error' in outcome) {
        log(outcome.error.message);
        child.signal('SIGTERM');
        await child.exited.catch(() => 1);
        await shutdown(config.revokeOnExit);
        return 1;
      }
      await shutdown(config.revokeOnExit);
      return outcome.code;
    }
    const outcome = await Promise.race([gotSignal.then((sig) => ({ sig })), fatalError.then((error) => ({ error }))]);
    if ('error' in outcome) {
      log(outcome.error.message);
      await shutdown(config.revokeOnExit);
      return 1;
    }
    log(`${outcome.sig}: stopping${config.revokeOnExit ? ' and revoking leases' : ''}`);
    await shutdown(config.revokeOnExit);
    return 0;
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

/** The child's KUBECONFIG: the first kubeconfig sink, else one written to a private temp dir. */
function childKubeconfig(config: AgentConfig, renewers: Renewer[], keepDir: (dir: string) => void): string | undefined {
  for (const c of config.credentials) {
    const sink = c.sinks.find((s) => s.type === 'kubeconfig');
    if (sink) return sink.path;
  }
  // a kubeconfig carrying the token itself would go stale at the first refresh: only with a token file
  const spec = config.credentials[0]!;
  const current = renewers[0]!.current;
  if (!current || !spec.sinks.some((s) => s.type === 'file')) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubelease-agent-'));
  keepDir(dir);
  const file = path.join(dir, 'kubeconfig');
  writeFileAtomic(file, kubeconfigFor(spec, current), 0o600);
  return file;
}
