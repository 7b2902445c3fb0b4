/**
 * Who the AWS default credential chain will sign as, told from the environment alone (no SDK,
 * no file reads): part of the exec plugin's cache key, so that switching identity never serves
 * another identity's token. The chain takes AWS_PROFILE over static keys, so does this.
 */
export function callerIdentity(env: NodeJS.ProcessEnv, profile?: string): string {
  const files = [env.AWS_CONFIG_FILE, env.AWS_SHARED_CREDENTIALS_FILE].filter(Boolean).join(',');
  const p = profile ?? env.AWS_PROFILE;
  if (p) return `profile:${p}${files ? `@${files}` : ''}`;
  if (env.AWS_ACCESS_KEY_ID) return `key:${env.AWS_ACCESS_KEY_ID}`;
  const parts = ['profile:default'];
  if (files) parts.push(`files:${files}`);
  if (env.AWS_ROLE_ARN) parts.push(`web-identity:${env.AWS_ROLE_ARN}`);
  const container = env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  if (container) parts.push(`container:${container}`);
  return parts.join(';');
}
