/**
 * What `npm start` prints once the stack is up: where it listens, which credentials to use, and
 * commands that work as pasted (keys inlined: they are local-only and also in the 0600 file).
 */
import path from 'node:path';
import { principal } from './credentials.js';
import type { LocalStack } from './stack.js';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function curlSig(p: { access_key_id: string; secret_access_key: string; session_token?: string }): string {
  const token = p.session_token ? ` -H ${q(`x-amz-security-token: ${p.session_token}`)}` : '';
  return `curl -sS --aws-sigv4 "aws:amz:us-east-1:execute-api" --user ${q(`${p.access_key_id}:${p.secret_access_key}`)}${token}`;
}

export function usage(stack: Pick<LocalStack, 'url' | 'mount' | 'eksMount' | 'credentials' | 'bed' | 'tables'>): string {
  const creds = stack.credentials.credentials;
  const admin = principal(creds, 'admin');
  const ci = principal(creds, 'ci');
  const api = stack.url;
  const m = stack.mount;
  const e = stack.eksMount;
  const ca = path.join(stack.bed.dir, 'pki', 'ca.crt');
  const lines = [
    '',
    'kubelease local stack is up',
    `  API           ${api}   (AWS SigV4: service execute-api, any region)`,
    `  mount ${m.padEnd(10)}→ ${stack.bed.apiserver.url} (test-bed kube-apiserver, CA ${ca}), broker ServiceAccount JWT`,
    `  mount ${e.padEnd(10)}→ the same apiserver as EKS cluster "${stack.bed.eks.clusterName}" (${stack.bed.eks.region}): IAM token, no stored secret, checked by the bed's EKS authenticator`,
    `  credentials   ${stack.credentials.path}`,
    `  tables        ${stack.tables.config}, ${stack.tables.roles}, ${stack.tables.leases} (DynamoDB Local ${stack.bed.dynamodb.endpoint})`,
    `  demo roles    demo-existing-sa, demo-bind-role, demo-generated on both mounts (namespace default, allowed: ${ci.iam_arn})`,
    '',
    `admin  ${admin.arn}`,
    `  export AWS_ACCESS_KEY_ID=${admin.access_key_id} AWS_SECRET_ACCESS_KEY=${q(admin.secret_access_key)}`,
    `ci     ${ci.arn}`,
    `  export AWS_ACCESS_KEY_ID=${ci.access_key_id} AWS_SECRET_ACCESS_KEY=${q(ci.secret_access_key)} AWS_SESSION_TOKEN=${q(ci.session_token ?? '')}`,
    '',
    '# list roles as admin (LIST = GET ?list=true; `curl -X LIST` works too)',
    `${curlSig(admin)} '${api}/v1/${m}/roles?list=true'`,
    '',
    '# issue a token as ci for the generated-role demo',
    `${curlSig(ci)} -X POST ${api}/v1/${m}/creds/demo-generated -d '{"kubernetes_namespace":"default"}'`,
    '',
    `# the same through the EKS mount (the broker reaches the cluster with a presigned STS token)`,
    `${curlSig(ci)} -X POST ${api}/v1/${e}/creds/demo-generated -d '{"kubernetes_namespace":"default"}'`,
    '',
    '# ... and use a token against the apiserver (no kubectl needed)',
    `TOKEN=$(${curlSig(ci)} -X POST ${api}/v1/${m}/creds/demo-generated -d '{"kubernetes_namespace":"default"}' | sed -n 's/.*"service_account_token":"\\([^"]*\\)".*/\\1/p')`,
    `curl -sS --cacert ${q(ca)} -H "Authorization: Bearer $TOKEN" ${stack.bed.apiserver.url}/api/v1/namespaces/default/pods`,
    '',
    '# your leases (as ci), then revoke one: PUT /v1/sys/leases/revoke {"lease_id": "..."}',
    `${curlSig(ci)} '${api}/v1/${m}/leases?list=true'`,
    '',
    '# the same with the kubelease CLI (npm run build:cli && npm link, once), after the ci export above',
    `export KUBELEASE_ADDR=${api}`,
    `kubelease creds ${m}/demo-generated -n default`,
    `kubelease kubeconfig ${m}/demo-generated -n default --merge && kubectl get pods`,
    `kubelease leases ${m} && kubelease revoke --prefix ${m}/demo-generated`,
    '',
    'Ctrl-C stops everything. Docs: docs/local.md',
    '',
  ];
  return lines.join('\n');
}
