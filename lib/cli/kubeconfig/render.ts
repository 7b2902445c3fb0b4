/** Kubeconfig documents for one cluster, user and context (plain objects; YAML is the caller's). */
import type { CredsRequest } from '../core/creds-request.js';
import { EXEC_V1, EXEC_V1BETA1, type ExecApiVersion } from '../exec/exec-info.js';

export interface KubeconfigNames {
  cluster: string;
  user: string;
  context: string;
}

export interface ClusterInfo {
  server: string;
  /** PEM; empty = the system's roots */
  caPem: string;
}

export interface ExecSpec {
  apiVersion: ExecApiVersion;
  command: string;
  args: string[];
  env?: { name: string; value: string }[];
}

export type UserAuth = { token: string } | { tokenFile: string } | { exec: ExecSpec };

export const INSTALL_HINT =
  'kubelease (the kubelease CLI) must be on PATH for this kubeconfig: install it, or rewrite the kubeconfig with kubelease kubeconfig --exec --exec-command /full/path/to/kubelease';

export function kubeconfigNames(mount: string, role: string, namespace?: string, context?: string): KubeconfigNames {
  const base = `kubelease-${mount}-${role}${namespace ? `-${namespace}` : ''}`;
  return { cluster: `kubelease-${mount}`, user: context ?? base, context: context ?? base };
}

export interface ExecArgsInput extends CredsRequest {
  addr: string;
  region?: string | undefined;
  profile?: string | undefined;
  command?: string | undefined;
  apiVersion?: ExecApiVersion | undefined;
}

/** The exec section kubectl runs: `kubelease exec-credential <mount>/<role> …` with everything that selects the token. */
export function execSpec(i: ExecArgsInput): ExecSpec {
  const args = ['exec-credential', `${i.mount}/${i.role}`, '--addr', i.addr];
  if (i.namespace) args.push('-n', i.namespace);
  if (i.ttl) args.push('--ttl', i.ttl);
  if (i.audiences) args.push('--audiences', i.audiences);
  if (i.clusterRoleBinding) args.push('--cluster-role-binding');
  if (i.region) args.push('--region', i.region);
  return {
    apiVersion: i.apiVersion ?? EXEC_V1BETA1,
    command: i.command ?? 'kubelease',
    args,
    // like `aws eks update-kubeconfig`: the profile chosen now is the one kubectl signs with later
    ...(i.profile ? { env: [{ name: 'AWS_PROFILE', value: i.profile }] } : {}),
  };
}

function userEntry(auth: UserAuth): Record<string, unknown> {
  if ('token' in auth) return { token: auth.token };
  if ('tokenFile' in auth) return { tokenFile: auth.tokenFile };
  const e = auth.exec;
  return {
    exec: {
      apiVersion: e.apiVersion,
      command: e.command,
      args: e.args,
      env: e.env ?? null,
      // required by v1, understood by kubectl ≥ 1.22 for v1beta1, ignored by older ones
      interactiveMode: 'Never',
      provideClusterInfo: false,
      installHint: INSTALL_HINT,
    },
  };
}

export interface KubeconfigParts {
  names: KubeconfigNames;
  cluster: ClusterInfo;
  auth: UserAuth;
  namespace?: string | undefined;
}

export function clusterEntry(names: KubeconfigNames, c: ClusterInfo): Record<string, unknown> {
  const cluster: Record<string, unknown> = { server: c.server };
  if (c.caPem) cluster['certificate-authority-data'] = Buffer.from(c.caPem).toString('base64');
  return { name: names.cluster, cluster };
}

export function entries(k: KubeconfigParts): { cluster: Record<string, unknown>; user: Record<string, unknown>; context: Record<string, unknown> } {
  return {
    cluster: clusterEntry(k.names, k.cluster),
    user: { name: k.names.user, user: userEntry(k.auth) },
    context: { name: k.names.context, context: { cluster: k.names.cluster, user: k.names.user, ...(k.namespace ? { namespace: k.namespace } : {}) } },
  };
}

export function renderKubeconfig(k: KubeconfigParts): Record<string, unknown> {
  const e = entries(k);
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [e.cluster],
    users: [e.user],
    contexts: [e.context],
    'current-context': k.names.context,
  };
}

export const isExecApiVersion = (v: string): v is ExecApiVersion => v === EXEC_V1 || v === EXEC_V1BETA1;
