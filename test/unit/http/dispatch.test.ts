/**
 * Issue 10 at the transport-neutral edge (lib/http/dispatch): path parameters are checked before
 * any store is touched (items 5, 7), 5xx bodies carry a short message and the request id but no
 * internal detail (item 9), and revoking an unrevocable lease says so (item 13).
 */
import { KubeleaseError } from '../../../lib/domain/index.js';
import { writeRole } from '../../../lib/engine/index.js';
import type { ApiRequest } from '../../../lib/http/api.js';
import { dispatch } from '../../../lib/http/dispatch.js';
import { memoryDeployment, type MemoryDeps } from '../engine/fake-cluster.js';
import { FAKE_ADMIN as ADMIN, FAKE_CI as CI, FAKE_JWT as JWT } from '../../support/fixtures.js';

const REQUEST_ID = 'c0ffee00-1111-2222-3333-444455556666';

let deps: MemoryDeps;
let storeCalls: string[];

/** Counts every store call, so a test can say "no store was touched". */
function counted<T extends object>(name: string, store: T): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string' || ['failNext', 'setRaw', 'fault', 'names'].includes(prop)) return v;
      return (...args: unknown[]) => {
        storeCalls.push(`${name}.${prop}`);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

beforeEach(async () => {
  ({ deps } = await memoryDeployment());
  await writeRole(deps, {
    mount: 'c1',
    name: 'plain',
    caller: ADMIN,
    body: { allowed_kubernetes_namespaces: 'team', service_account_name: 'default', revocable: false, allowed_principals: 'arn:aws:iam::111111111111:role/ci' },
  });
  storeCalls = [];
  deps.configs = counted('configs', deps.configs);
  deps.roles = counted('roles', deps.roles);
  deps.leases = counted('leases', deps.leases);
});

const request = (r: Partial<ApiRequest> & Pick<ApiRequest, 'op' | 'method'>): ApiRequest => ({
  pathParameters: {},
  query: {},
  body: {},
  caller: ADMIN,
  requestId: REQUEST_ID,
  ...r,
});
const errorsOf = (body: unknown) => (body as { errors: string[] }).errors;

describe('items 5 and 7: path parameters are validated at the edge, before any store access', () => {
  test.each<[string, ApiRequest, string]>([
    ['a role name over the limit on creds', request({ op: 'creds', method: 'POST', caller: CI, pathParameters: { mount: 'c1', role: 'r'.repeat(1100) } }), 'role'],
    ['a mount over the limit on creds', request({ op: 'creds', method: 'POST', caller: CI, pathParameters: { mount: 'm'.repeat(2100), role: 'plain' } }), 'mount'],
    ['a role name over the limit on role read', request({ op: 'roles', method: 'GET', pathParameters: { mount: 'c1', name: 'n'.repeat(1100) } }), 'name'],
    ['a mount over the limit on role list', request({ op: 'roles.list', method: 'GET', query: { list: 'true' }, pathParameters: { mount: 'm'.repeat(2100) } }), 'mount'],
    ['a mount over the limit on lease list', request({ op: 'leases.list', method: 'GET', query: { list: 'true' }, caller: CI, pathParameters: { mount: 'm'.repeat(2100) } }), 'mount'],
    ['a role over the limit on lease list', request({ op: 'leases.list', method: 'GET', query: { list: 'true' }, caller: CI, pathParameters: { mount: 'c1', role: 'r'.repeat(1100) } }), 'role'],
    ['a mount that is not a DNS-1123 label', request({ op: 'config', method: 'POST', pathParameters: { mount: 'a-' }, body: { kubernetes_host: 'https://127.0.0.1:6443', service_account_jwt: JWT } }), 'mount'],
    ['a reserved mount', request({ op: 'roles.list', method: 'GET', query: { list: 'true' }, pathParameters: { mount: 'sys' } }), 'mount'],
  ])('%s → 400 naming the parameter', async (_what, req, field) => {
    const res = await dispatch(deps, req);
    expect(res.status).toBe(400);
    expect(errorsOf(res.body)[0]).toMatch(new RegExp(`^${field}: `));
    expect(storeCalls).toEqual([]);
  });
});

describe('item 9: 5xx bodies carry a short message and the request id, never internal detail', () => {
  const KMS_DETAIL =
    'sealed secret: KMS Decrypt failed (AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/Kubelease-BrokerRole/fn is not authorized to perform kms:Decrypt on resource arn:aws:kms:eu-west-1:123456789012:key/1234abcd)';

  test.each<[string, unknown, number]>([
    ['an AWS error (502)', new KubeleaseError('upstream', KMS_DETAIL), 502],
    ['an unavailable dependency (503)', new KubeleaseError('unavailable', 'DynamoDB GetItem on Kubelease-BrokerConfig-1A2B3C failed (ThrottlingException)'), 503],
    ['an unexpected error (500)', new TypeError("Cannot read properties of undefined (reading 'arn:aws:iam::123456789012:role/x')"), 500],
  ])('%s', async (_what, thrown, status) => {
    deps.configs.failNext('get', thrown);
    const res = await dispatch(deps, request({ op: 'config', method: 'GET', pathParameters: { mount: 'c1' } }));
    expect(res.status).toBe(status);
    const [message, ...rest] = errorsOf(res.body);
    expect(rest).toEqual([]);
    expect(message).toContain(`request id ${REQUEST_ID}`);
    expect(message).not.toMatch(/arn:|123456789012|Kubelease-|kms|KMS|DynamoDB/);
    expect(message!.length).toBeLessThan(200);
    expect(res.error).toBe(thrown); // the detail stays available for the log line
  });

  test('4xx bodies still name the field', async () => {
    const res = await dispatch(deps, request({ op: 'roles', method: 'POST', pathParameters: { mount: 'c1', name: 'x' }, body: { bogus: 1 } }));
    expect(res.status).toBe(400);
    expect(errorsOf(res.body).join(' ')).toContain('bogus');
  });
});

describe('item 13: revoking an unrevocable lease answers with a warning instead of a silent 204', () => {
  test('PUT sys/leases/revoke', async () => {
    const issued = await dispatch(deps, request({ op: 'creds', method: 'POST', caller: CI, pathParameters: { mount: 'c1', role: 'plain' }, body: { kubernetes_namespace: 'team' } }));
    expect(issued.status).toBe(200);
    const leaseId = (issued.body as { lease_id: string }).lease_id;
    const res = await dispatch(deps, request({ op: 'leases.revoke', method: 'PUT', caller: CI, body: { lease_id: leaseId } }));
    expect(res.status).toBe(200);
    expect((res.body as { warnings: string[] }).warnings).toEqual([
      'the token of this lease is not revocable (role "plain" has revocable=false): it stays valid until it expires at 2026-11-25T13:00:00Z',
    ]);
  });
});
