/**
 * Every role example in docs/roles.md, written as is and used for real: credentials issued on
 * the test bed, the token authenticates as the right ServiceAccount, revoke cleans up.
 */
import * as k8s from '@kubernetes/client-node';
import { mergeRole, roleMode } from '../../lib/domain/index.js';
import { issueCreds, revokeLease, writeRole } from '../../lib/engine/index.js';
import { adminKubeConfig, eventually, newNamespace, statusOf } from '../support/bed.js';
import { roleExamples } from '../support/doc-examples.js';
import { ADMIN, bedEngine, type BedEngine } from '../support/engine.js';
import { objectsOfLease, whoIs } from '../support/kube-probes.js';

let env: BedEngine;
const core = () => adminKubeConfig().makeApiClient(k8s.CoreV1Api);

async function ensureNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  try {
    await core().createNamespace({ body: { metadata: { name, labels } } });
  } catch (e) {
    if (statusOf(e) !== 409) throw e;
  }
  await eventually(() => core().readNamespacedServiceAccount({ name: 'default', namespace: name }));
}

/** A namespace the example's role allows, created with what the role needs to exist. */
async function namespaceFor(body: Record<string, unknown>): Promise<string> {
  const role = mergeRole('example', undefined, body);
  const named = role.allowed_kubernetes_namespaces.find((n) => n !== '*');
  const ns = named ?? (await newNamespace('kl-doc'));
  if (named) await ensureNamespace(named);
  if (role.service_account_name && role.service_account_name !== 'default') {
    await core()
      .createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: role.service_account_name } } })
      .catch((e: unknown) => {
        if (statusOf(e) !== 409) throw e;
      });
  }
  return ns;
}

beforeAll(async () => {
  env = await bedEngine('docs');
});

const examples = roleExamples();

test('docs/roles.md has examples to run', () => {
  expect(examples.length).toBeGreaterThanOrEqual(6);
});

test.each(examples.map((e, i) => [e.heading.replace(/^#+\s*/, ''), i]))('%s', async (_heading, index) => {
  const body = JSON.parse(examples[index as number]?.json ?? '{}') as Record<string, unknown>;
  const name = `doc-example-${index}`;
  await writeRole(env.deps, { mount: env.mount, name, caller: ADMIN, body });
  const namespace = await namespaceFor(body);
  const creds = await issueCreds(env.deps, { mount: env.mount, roleName: name, caller: ADMIN, body: { kubernetes_namespace: namespace } });
  const { service_account_name: sa, service_account_token: token } = creds.data;
  const audiences = mergeRole('x', undefined, body).token_default_audiences;
  expect(await whoIs(token, audiences.length > 0 ? audiences : undefined)).toBe(`system:serviceaccount:${namespace}:${sa}`);
  const generated = roleMode(mergeRole('x', undefined, body)) !== 'existing_service_account';
  if (generated) expect(sa).not.toBe(body.service_account_name);
  await revokeLease(env.deps, { lease_id: creds.lease.lease_id }, ADMIN);
  expect(await objectsOfLease(creds.lease.lease_hash)).toEqual([]);
});

test('the selector example admits a namespace by its labels', async () => {
  const selectorExample = examples.find((e) => e.json.includes('allowed_kubernetes_namespace_selector'));
  expect(selectorExample).toBeDefined();
  const body = JSON.parse(selectorExample?.json ?? '{}') as Record<string, unknown>;
  await writeRole(env.deps, { mount: env.mount, name: 'doc-selector', caller: ADMIN, body });
  const labeled = await newNamespace('kl-doc-sel', { stage: 'prod', team: 'payments' });
  const creds = await issueCreds(env.deps, { mount: env.mount, roleName: 'doc-selector', caller: ADMIN, body: { kubernetes_namespace: labeled } });
  expect(creds.data.service_account_namespace).toBe(labeled);
  await revokeLease(env.deps, { lease_id: creds.lease.lease_id }, ADMIN);
});
