/**
 * The kubectl side of the exec credential plugin protocol: which ExecCredential apiVersion
 * kubectl asks for (KUBERNETES_EXEC_INFO) and the answer it expects on stdout.
 */
import { CliError } from '../core/errors.js';

export const EXEC_V1 = 'client.authentication.k8s.io/v1';
export const EXEC_V1BETA1 = 'client.authentication.k8s.io/v1beta1';
export const EXEC_API_VERSIONS = [EXEC_V1, EXEC_V1BETA1] as const;
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];

/**
 * kubectl ≥ 1.11 sets KUBERNETES_EXEC_INFO to an ExecCredential whose apiVersion is the one in
 * the kubeconfig's exec section. Without it (run by hand), answer v1beta1, which every kubectl
 * since 1.11 reads.
 */
export function requestedApiVersion(env: NodeJS.ProcessEnv): ExecApiVersion {
  const raw = env.KUBERNETES_EXEC_INFO;
  if (!raw) return EXEC_V1BETA1;
  let apiVersion: unknown;
  try {
    apiVersion = (JSON.parse(raw) as { apiVersion?: unknown }).apiVersion;
  } catch {
    throw new CliError('KUBERNETES_EXEC_INFO is not JSON', 1, 'run kubelease exec-credential from kubectl, or unset KUBERNETES_EXEC_INFO');
  }
  if ((EXEC_API_VERSIONS as readonly unknown[]).includes(apiVersion)) return apiVersion as ExecApiVersion;
  throw new CliError(
    `kubectl asks for ExecCredential ${String(apiVersion)}; kubelease answers ${EXEC_API_VERSIONS.join(' and ')}`,
    1,
    `set apiVersion: ${EXEC_V1BETA1} in the exec section of your kubeconfig (kubelease kubeconfig --exec writes it)`,
  );
}

/** The ExecCredential JSON kubectl reads from stdout. */
export function execCredentialJson(apiVersion: ExecApiVersion, token: string, expirationMs: number): string {
  const expirationTimestamp = new Date(Math.floor(expirationMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return `${JSON.stringify({ kind: 'ExecCredential', apiVersion, spec: {}, status: { expirationTimestamp, token } })}\n`;
}
