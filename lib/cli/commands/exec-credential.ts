import { bool, expectPositionals, type Command } from '../core/command.js';
import { warn } from '../core/style.js';
import { brokerFromFlags } from '../client/from-flags.js';
import { execExpirationMs } from '../cache/policy.js';
import { execCredentialJson, requestedApiVersion } from '../exec/exec-info.js';
import { obtainCredential } from '../exec/obtain.js';
import { EXEC_OPTIONS } from '../exec/options.js';
import { execRequest } from '../exec/request.js';

export const execCredentialCommand: Command = {
  name: 'exec-credential',
  summary: 'kubectl exec credential plugin: prints an ExecCredential with a cached token (never interactive).',
  synopsis: '<mount>/<role> [flags]',
  description: [
    'kubectl runs this on every invocation (see kubelease kubeconfig --exec). The token is cached in',
    '$KUBECACHEDIR/kubelease (default ~/.kube/cache/kubelease, 0700) per address, role, namespace, ttl,',
    'audiences and AWS identity; parallel calls share one issuance. It is refreshed when 20 % of its',
    'lifetime is left (60 s to 5 min); if a refresh fails while the cached token has more than 30 s,',
    'that token is served with a warning. Diagnostics go to stderr, one line with cause and fix.',
  ].join('\n'),
  options: EXEC_OPTIONS,
  examples: ['kubelease exec-credential prod/deploy -n apps --addr https://abc123.execute-api.eu-west-1.amazonaws.com/prod'],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'exec-credential', '<mount>/<role>');
    const apiVersion = requestedApiVersion(io.env);
    const req = execRequest(p, io.env);
    const entry = await obtainCredential(req, {
      env: io.env,
      force: bool(p, 'force-refresh'),
      broker: () => brokerFromFlags(p, io.env),
      warn: (m) => warn(m),
    });
    io.out(execCredentialJson(apiVersion, entry.token, execExpirationMs(entry.expires_at, Date.now())));
    return 0;
  },
};
