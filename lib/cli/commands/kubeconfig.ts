import { stringify } from 'yaml';
import { bool, expectPositionals, str, type Command } from '../core/command.js';
import { CliError, usageError } from '../core/errors.js';
import { warn } from '../core/style.js';
import { brokerFromFlags } from '../client/from-flags.js';
import { credsBody } from '../core/creds-request.js';
import { obtainCredential } from '../exec/obtain.js';
import { EXEC_OPTIONS } from '../exec/options.js';
import { execRequest } from '../exec/request.js';
import { clusterInfo } from '../kubeconfig/cluster.js';
import { kubeconfigTarget, mergeIntoFile } from '../kubeconfig/merge.js';
import { execSpec, isExecApiVersion, kubeconfigNames, renderKubeconfig, type ClusterInfo, type KubeconfigParts, type UserAuth } from '../kubeconfig/render.js';
import { EXEC_V1BETA1 } from '../exec/exec-info.js';

export const kubeconfigCommand: Command = {
  name: 'kubeconfig',
  summary: 'Write a kubeconfig for a role: with the exec plugin (default; kubectl gets a cached, refreshed token on every call) or with a plain token.',
  synopsis: '<mount>/<role> [-n NS] [--exec|--token] [--context NAME] [--merge [--kubeconfig FILE]]',
  description: [
    'Prints the kubeconfig, or with --merge adds/updates its cluster, user and context in --kubeconfig,',
    'the first file of $KUBECONFIG, or ~/.kube/config (atomically, 0600) and makes the context current,',
    'like aws eks update-kubeconfig. --exec issues (or reuses) one cached token to learn the cluster\'s',
    'address and CA, so the first kubectl call is a cache hit; --server/--ca-file skip that request.',
  ].join('\n'),
  options: {
    ...EXEC_OPTIONS,
    exec: { type: 'boolean', help: 'use the exec plugin (default)' },
    token: { type: 'boolean', help: 'embed a freshly issued token instead (it expires with its lease)' },
    context: { type: 'string', arg: 'NAME', help: 'context (and user) name, default kubelease-<mount>-<role>[-<ns>]' },
    merge: { type: 'boolean', help: 'merge into the kubeconfig file instead of printing' },
    kubeconfig: { type: 'string', arg: 'FILE', help: 'file for --merge (default: first of $KUBECONFIG, else ~/.kube/config)' },
    'exec-command': { type: 'string', arg: 'PATH', help: 'command kubectl runs (default kubelease, found on PATH)' },
    'exec-api-version': { type: 'string', arg: 'VERSION', help: `ExecCredential apiVersion, ${EXEC_V1BETA1} (default, kubectl ≥ 1.11) or client.authentication.k8s.io/v1 (kubectl ≥ 1.22)` },
    server: { type: 'string', arg: 'URL', help: 'cluster API address (default: what the broker says)' },
    'ca-file': { type: 'string', arg: 'FILE', help: 'cluster CA (PEM) for --server' },
  },
  examples: [
    'kubelease kubeconfig prod/deploy -n apps --merge && kubectl get pods',
    'kubelease kubeconfig prod/deploy -n apps --token > /tmp/kubeconfig',
  ],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'kubeconfig', '<mount>/<role>');
    if (bool(p, 'exec') && bool(p, 'token')) throw usageError('--exec and --token exclude each other', 'kubeconfig');
    if (bool(p, 'force-refresh') && bool(p, 'token')) throw usageError('--force-refresh applies to --exec only', 'kubeconfig');
    if (str(p, 'ca-file') && !str(p, 'server')) throw usageError('--ca-file goes with --server', 'kubeconfig');
    const apiVersion = str(p, 'exec-api-version') ?? EXEC_V1BETA1;
    if (!isExecApiVersion(apiVersion)) throw usageError(`--exec-api-version ${apiVersion}: use ${EXEC_V1BETA1} or client.authentication.k8s.io/v1`, 'kubeconfig');
    const req = execRequest(p, io.env, 'kubeconfig');
    const override = { server: str(p, 'server'), caFile: str(p, 'ca-file') };

    let cluster: ClusterInfo;
    let auth: UserAuth;
    let namespace = req.namespace;
    if (bool(p, 'token')) {
      const res = await brokerFromFlags(p, io.env).creds(req.mount, req.role, credsBody(req));
      for (const w of res.warnings ?? []) warn(`broker: ${w}`);
      cluster = clusterInfo(res.data, override);
      auth = { token: res.data.service_account_token };
      namespace = res.data.service_account_namespace;
    } else {
      if (override.server) {
        cluster = clusterInfo({}, override);
      } else {
        const entry = await obtainCredential(req, { env: io.env, force: bool(p, 'force-refresh'), broker: () => brokerFromFlags(p, io.env), warn: (m) => warn(m) });
        cluster = clusterInfo(entry);
        namespace ??= entry.namespace;
      }
      const profile = str(p, 'profile') ?? io.env.AWS_PROFILE;
      auth = { exec: execSpec({ ...req, region: str(p, 'region'), profile, command: str(p, 'exec-command'), apiVersion }) };
    }
    const parts: KubeconfigParts = { names: kubeconfigNames(req.mount, req.role, req.namespace, str(p, 'context')), cluster, auth, namespace };
    if (!bool(p, 'merge')) {
      if (str(p, 'kubeconfig')) throw usageError('--kubeconfig goes with --merge (without it the kubeconfig is printed)', 'kubeconfig');
      io.out(stringify(renderKubeconfig(parts)));
      return 0;
    }
    const file = kubeconfigTarget(str(p, 'kubeconfig'), io.env);
    try {
      mergeIntoFile(file, parts);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 1, 'pick a writable file with --kubeconfig');
    }
    io.out(`context ${parts.names.context} in ${file} (current)\n`);
    return 0;
  },
};

