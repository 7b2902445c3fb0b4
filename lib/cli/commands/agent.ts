import path from 'node:path';
import { API_OPTIONS, bool, str, type Command, type Parsed } from '../core/command.js';
import { usageError } from '../core/errors.js';
import { credsRequestFrom } from '../core/creds-request.js';
import { Broker } from '../client/broker.js';
import { resolveEndpoint } from '../client/endpoint.js';
import { loadAgentConfig } from '../agent/config.js';
import { parseListenAddress } from '../agent/listen-address.js';
import { runAgent } from '../agent/run.js';
import type { AgentConfig, Sink } from '../agent/types.js';
import { CREDS_REQUEST_OPTIONS } from '../exec/options.js';

/** Test knob (docs/testing.md): refresh this many ms after each issuance instead of at 70–80 % of the lease. */
export const REFRESH_KNOB = 'KUBELEASE_TEST_REFRESH_AFTER_MS';

const PER_CREDENTIAL_FLAGS = ['token-file', 'kubeconfig', 'exec-after', 'listen', 'namespace', 'ttl', 'audiences', 'cluster-role-binding'];

export const agentCommand: Command = {
  name: 'agent',
  summary: 'Keep a token file (and a kubeconfig using it) fresh, like Vault Agent: refresh at 70–80 % of the lease, back off on failure, exit 1 once the token expired without a successor.',
  synopsis: '<mount>/<role> --token-file FILE [--kubeconfig FILE] [--exec-after CMD] [--listen 127.0.0.1:PORT] [--exit-after-auth] [--revoke-on-exit] [-- CHILD ARGS...]\n       kubelease agent --config agent.yaml [--exit-after-auth] [--revoke-on-exit] [-- CHILD ARGS...]',
  description: [
    'With a child command (after --) it runs the child with KUBECONFIG set, forwards SIGTERM/SIGINT/SIGHUP',
    'and exits with the child\'s code. --revoke-on-exit revokes the agent\'s leases on SIGTERM/SIGINT and',
    'when the child exits. --listen serves the cluster\'s API on loopback with the current token attached.',
    '--config takes several credentials, each with sinks, templates and a listener (docs/cli.md).',
  ].join('\n'),
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', help: 'agent configuration (YAML); replaces the per-credential flags' },
    'token-file': { type: 'string', arg: 'FILE', help: 'keep the token in this file (0600, replaced atomically)' },
    kubeconfig: { type: 'string', arg: 'FILE', help: 'also keep a kubeconfig there that reads the token file (tokenFile:)' },
    'exec-after': { type: 'string', arg: 'CMD', help: 'shell command run after every refresh' },
    listen: { type: 'string', arg: 'ADDR', help: 'local proxy to the cluster API on a loopback HOST:PORT' },
    'exit-after-auth': { type: 'boolean', help: 'write the files once and exit' },
    'revoke-on-exit': { type: 'boolean', help: 'revoke this agent\'s leases when it stops' },
    ...CREDS_REQUEST_OPTIONS,
    ...API_OPTIONS,
  },
  examples: [
    'kubelease agent prod/deploy -n apps --token-file /run/kubelease/token --kubeconfig /run/kubelease/kubeconfig',
    'kubelease agent prod/deploy -n apps --token-file /tmp/t --revoke-on-exit -- ./deploy.sh',
    'kubelease agent --config /etc/kubelease/agent.yaml',
  ],
  async run(p, io) {
    const config = agentConfig(p);
    if (config.exitAfterAuth && p.rest.length) throw usageError('--exit-after-auth and a child command exclude each other', 'agent');
    const addr = str(p, 'addr') ?? config.addr;
    const region = str(p, 'region') ?? config.region;
    const broker = new Broker({ endpoint: resolveEndpoint({ addr, region }, io.env), profile: str(p, 'profile') ?? config.profile });
    const knob = io.env[REFRESH_KNOB];
    const refreshAfterMs = knob ? Number(knob) : undefined;
    if (refreshAfterMs !== undefined && !(refreshAfterMs > 0)) throw usageError(`${REFRESH_KNOB} must be a positive number of ms`, 'agent');
    return runAgent({ config, broker, env: io.env, child: p.rest, log: (l) => io.err(`kubelease agent: ${l}\n`), refreshAfterMs });
  },
};

function agentConfig(p: Parsed): AgentConfig {
  const file = str(p, 'config');
  const overrides = { ...(bool(p, 'exit-after-auth') ? { exitAfterAuth: true } : {}), ...(bool(p, 'revoke-on-exit') ? { revokeOnExit: true } : {}) };
  if (file) {
    const clash = PER_CREDENTIAL_FLAGS.find((f) => p.values[f] !== undefined);
    if (clash) throw usageError(`--${clash} and --config exclude each other (put it in the config file)`, 'agent');
    if (p.positionals.length) throw usageError(`unexpected argument "${p.positionals[0]}" with --config`, 'agent');
    return { ...loadAgentConfig(file), ...overrides };
  }
  if (p.positionals.length !== 1) throw usageError(p.positionals.length ? `unexpected argument "${p.positionals[1]}"` : 'missing <mount>/<role> (or --config FILE)', 'agent');
  const req = credsRequestFrom(p, 'agent');
  const tokenFile = str(p, 'token-file');
  if (!tokenFile) throw usageError('missing --token-file FILE', 'agent');
  // absolute: kubectl reads a relative tokenFile relative to the kubeconfig's directory
  const sinks: Sink[] = [{ type: 'file', path: path.resolve(tokenFile), mode: 0o600 }];
  const kubeconfig = str(p, 'kubeconfig');
  if (kubeconfig) sinks.push({ type: 'kubeconfig', path: path.resolve(kubeconfig), mode: 0o600 });
  const listen = str(p, 'listen');
  return {
    revokeOnExit: false,
    exitAfterAuth: false,
    ...overrides,
    credentials: [
      {
        ...req,
        name: `${req.mount}-${req.role}`,
        sinks,
        templates: [],
        listener: listen ? parseListenAddress(listen, '--listen') : undefined,
        execAfter: str(p, 'exec-after'),
      },
    ],
  };
}
