/**
 * Issue 10's acceptance, as properties over lib/http/dispatch with in-memory stores and the
 * recording fake of our KubeCluster port: no creds, role or lease request with a bad path,
 * body or stored item answers 5xx. (The same inputs against DynamoDB Local are in
 * test/integration/handlers.test.ts; stored lease items are parsed by leaseFromItem, below.)
 */
import fc from 'fast-check';
import { leaseFromItem } from '../../../lib/adapters/dynamodb/lease-store.js';
import { KubeleaseError } from '../../../lib/domain/index.js';
import { writeRole } from '../../../lib/engine/index.js';
import type { ApiRequest } from '../../../lib/http/api.js';
import { dispatch } from '../../../lib/http/dispatch.js';
import { memoryDeployment, type MemoryDeps } from '../engine/fake-cluster.js';
import { FAKE_ADMIN as ADMIN, FAKE_CI as CI } from '../../support/fixtures.js';

const RUNS = { numRuns: 150 };

let deps: MemoryDeps;

beforeAll(async () => {
  ({ deps } = await memoryDeployment());
  await writeRole(deps, {
    mount: 'c1',
    name: 'ok',
    caller: ADMIN,
    body: { allowed_kubernetes_namespaces: 'team', service_account_name: 'default', allowed_principals: 'arn:aws:iam::111111111111:role/ci' },
  });
});

const name = fc.oneof(fc.constantFrom('c1', 'ok', 'sys', 'mounts', '-', 'a-', '.', '..', ''), fc.string(), fc.string({ minLength: 1000, maxLength: 2200 }));
const body = fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('kubernetes_namespace', 'cluster_role_binding', 'ttl', 'audiences', 'lease_id', 'allowed_principals', 'extra_annotations', 'service_account_name'), fc.jsonValue()));
const caller = fc.constantFrom(ADMIN, CI, { arn: 'arn:aws:iam::222222222222:user/x' });

const request = (r: Pick<ApiRequest, 'op' | 'method'> & Partial<ApiRequest>): ApiRequest => ({ pathParameters: {}, query: {}, body: {}, caller: ADMIN, requestId: 'rid', ...r });

async function status(req: ApiRequest): Promise<number> {
  const res = await dispatch(deps, req);
  if (res.status >= 500) throw new Error(`${req.method} ${req.op} ${JSON.stringify(req.pathParameters).slice(0, 120)} → ${res.status}: ${String(res.error)}`);
  return res.status;
}

test('creds, roles and leases: any path parameters and body → never 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(name, name, body, caller, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), async (mount, role, b, who, method) => {
      await status(request({ op: 'creds', method: 'POST', caller: who, pathParameters: { mount, role }, body: b }));
      await status(request({ op: 'roles', method, caller: who, pathParameters: { mount, name: role }, body: b }));
      await status(request({ op: 'roles.list', method: 'GET', query: { list: 'true' }, caller: who, pathParameters: { mount } }));
      await status(request({ op: 'roles.check', method: 'POST', caller: who, pathParameters: { mount, name: role }, body: b }));
      await status(request({ op: 'leases.list', method: 'GET', query: { list: 'true' }, caller: who, pathParameters: { mount, role } }));
      await status(request({ op: 'leases.lookup', method: 'PUT', caller: who, body: b }));
      await status(request({ op: 'leases.revoke', method: 'PUT', caller: who, body: b }));
    }),
    RUNS,
  );
});

test('any stored role item → never 5xx for creds, read, list or check', async () => {
  const item = fc.dictionary(
    fc.constantFrom('allowed_kubernetes_namespaces', 'service_account_name', 'kubernetes_role_name', 'kubernetes_role_type', 'generated_role_rules', 'token_max_ttl', 'allowed_principals', 'allowed_audiences', 'extra_annotations', 'allow_cluster_role_binding', 'junk'),
    fc.jsonValue(),
  );
  await fc.assert(
    fc.asyncProperty(item, caller, async (stored, who) => {
      deps.roles.setRaw('c1', 'stored', stored);
      await status(request({ op: 'creds', method: 'POST', caller: who, pathParameters: { mount: 'c1', role: 'stored' }, body: { kubernetes_namespace: 'team' } }));
      await status(request({ op: 'roles', method: 'GET', caller: who, pathParameters: { mount: 'c1', name: 'stored' } }));
      await status(request({ op: 'roles.list', method: 'GET', query: { list: 'true' }, caller: who, pathParameters: { mount: 'c1' } }));
      await status(request({ op: 'roles.check', method: 'POST', caller: who, pathParameters: { mount: 'c1', name: 'stored' }, body: {} }));
    }),
    RUNS,
  );
});

test('any stored lease item is read as a lease or refused with 422, never a crash later', () => {
  const item = fc.record(
    {
      lease_id: fc.string(),
      lease_hash: fc.string(),
      mount: fc.string(),
      role: fc.string(),
      namespace: fc.string(),
      caller_arn: fc.string(),
      status: fc.constantFrom('pending', 'active', 'revoking', 'other'),
      issued_at: fc.integer(),
      expires_at: fc.integer(),
      service_account_name: fc.string(),
      plan: fc.oneof(
        fc.jsonValue(),
        fc.record({
          objects: fc.array(fc.record({ kind: fc.constantFrom('Secret', 'ServiceAccount', 'ClusterRole', 'Pod', 3), namespace: fc.oneof(fc.string(), fc.constant(undefined)), name: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: ['kind'] })),
          token: fc.oneof(fc.jsonValue(), fc.record({ serviceAccount: fc.record({ namespace: fc.string(), name: fc.string() }), audiences: fc.array(fc.string()), expirationSeconds: fc.integer() })),
        }),
      ),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(item, (it) => {
      try {
        const lease = leaseFromItem(it as Record<string, unknown>);
        for (const o of lease.plan.objects) {
          expect(['Secret', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']).toContain(o.kind);
          expect(typeof o.name).toBe('string');
          if (o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding') expect(o.namespace).toEqual(expect.any(String));
        }
      } catch (e) {
        if (!(e instanceof KubeleaseError) || e.status !== 422) throw e;
      }
    }),
    { numRuns: 500 },
  );
});
