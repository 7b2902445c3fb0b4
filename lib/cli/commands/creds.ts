import { stringify } from 'yaml';
import { API_OPTIONS, expectPositionals, outputFormat, str, type Command } from '../core/command.js';
import { envLine, humanDuration, keyValues } from '../core/format.js';
import { styleFor, warn } from '../core/style.js';
import { brokerFromFlags } from '../client/from-flags.js';
import type { CredsData, Envelope } from '../client/broker.js';
import { credsBody, credsRequestFrom } from '../core/creds-request.js';
import { CREDS_REQUEST_OPTIONS } from '../exec/options.js';
import { clusterInfo } from '../kubeconfig/cluster.js';
import { kubeconfigNames, renderKubeconfig } from '../kubeconfig/render.js';

const FORMATS = ['table', 'json', 'env', 'token', 'kubeconfig'] as const;

export const credsCommand: Command = {
  name: 'creds',
  summary: 'Issue a token for a role (what `vault read <mount>/creds/<role>` does). The token is printed only with -o token, env, json or kubeconfig.',
  synopsis: '<mount>/<role> [-n NS] [--ttl TTL] [--audiences LIST] [--cluster-role-binding] [-o table|json|env|token|kubeconfig]',
  options: {
    ...CREDS_REQUEST_OPTIONS,
    output: { type: 'string', short: 'o', arg: 'FORMAT', help: 'table (default, token hidden), json (the whole response), env (KUBELEASE_* lines), token, kubeconfig' },
    context: { type: 'string', arg: 'NAME', help: 'context name for -o kubeconfig (default kubelease-<mount>-<role>[-<ns>])' },
    ...API_OPTIONS,
  },
  examples: [
    'kubelease creds prod/deploy -n apps --ttl 30m',
    'kubectl --token "$(kubelease creds prod/deploy -n apps -o token)" --server https://… get pods',
    'kubelease creds prod/deploy -n apps -o kubeconfig > kubeconfig.yaml',
  ],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'creds', '<mount>/<role>');
    const req = credsRequestFrom(p, 'creds');
    const { mount, role } = req;
    const format = outputFormat(p, FORMATS, 'table', 'creds');
    const res = await brokerFromFlags(p, io.env).creds(mount, role, credsBody(req));
    for (const w of res.warnings ?? []) warn(`broker: ${w}`);
    io.out(render(format, res, { mount, role, context: str(p, 'context') }, io.stdoutIsTTY));
    return 0;
  },
};

function render(format: (typeof FORMATS)[number], res: Envelope<CredsData>, t: { mount: string; role: string; context?: string | undefined }, tty: boolean): string {
  const d = res.data;
  const expires = new Date(Date.now() + res.lease_duration * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  switch (format) {
    case 'json':
      return `${JSON.stringify(res, null, 2)}\n`;
    case 'token':
      return `${d.service_account_token}\n`;
    case 'env':
      return [
        envLine('KUBELEASE_LEASE_ID', res.lease_id),
        envLine('KUBELEASE_TOKEN', d.service_account_token),
        envLine('KUBELEASE_NAMESPACE', d.service_account_namespace),
        envLine('KUBELEASE_SERVICE_ACCOUNT', d.service_account_name),
        envLine('KUBELEASE_SERVER', d.kubernetes_host ?? ''),
        envLine('KUBELEASE_CA_DATA', Buffer.from(d.kubernetes_ca_cert ?? '').toString('base64')),
        envLine('KUBELEASE_EXPIRES_AT', expires),
        '',
      ].join('\n');
    case 'kubeconfig':
      return stringify(
        renderKubeconfig({
          names: kubeconfigNames(t.mount, t.role, d.service_account_namespace, t.context),
          cluster: clusterInfo(d),
          auth: { token: d.service_account_token },
          namespace: d.service_account_namespace,
        }),
      );
    case 'table':
      return keyValues(
        [
          ['lease_id', res.lease_id],
          ['lease_duration', `${humanDuration(res.lease_duration)} (expires ${expires})`],
          ['service_account_name', d.service_account_name],
          ['service_account_namespace', d.service_account_namespace],
          ['kubernetes_host', d.kubernetes_host ?? ''],
          ['service_account_token', '(hidden: use -o token, -o env, -o json or -o kubeconfig)'],
        ],
        styleFor({ isTTY: tty }).bold,
      );
  }
}
