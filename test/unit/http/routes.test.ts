/**
 * Each route's handler parses its own path parameters (lib/http/path-params.ts): the ones its
 * paths declare, checked, and nothing else; every operation of the route table has a handler.
 */
import { dispatch } from '../../../lib/http/dispatch.js';
import type { ApiRequest } from '../../../lib/http/api.js';
import { routes } from '../../../lib/http/routes.js';
import { memoryDeployment, type MemoryDeps } from '../engine/fake-cluster.js';
import { FAKE_ADMIN as ADMIN } from '../../support/fixtures.js';

let deps: MemoryDeps;
beforeEach(async () => {
  ({ deps } = await memoryDeployment());
});

const request = (r: Pick<ApiRequest, 'op' | 'method'> & Partial<ApiRequest>): ApiRequest => ({ pathParameters: {}, query: {}, body: {}, caller: ADMIN, requestId: 'rid', ...r });
const errorsOf = (body: unknown) => (body as { errors: string[] }).errors;

test('every operation in the route table reaches its engine call (an unknown role is the engine\'s 404)', async () => {
  const seen: [string, number][] = [];
  for (const r of routes) {
    const params = Object.fromEntries([...r.path.matchAll(/\{(\w+)\}/g)].map(([, k]) => [k!, k === 'mount' ? 'c1' : 'x']));
    const res = await dispatch(deps, request({ op: r.op, method: r.methods[0]!, pathParameters: params, query: { list: 'true' } }));
    seen.push([`${r.methods[0]} ${r.path}`, res.status]);
  }
  expect(seen).toEqual([
    ['GET /v1/mounts', 200],
    ['GET /v1/{mount}/config', 200],
    ['GET /v1/{mount}/roles', 200],
    ['GET /v1/{mount}/roles/{name}', 404],
    ['POST /v1/{mount}/roles/{name}/check', 404],
    ['POST /v1/{mount}/creds/{role}', 404],
    ['GET /v1/{mount}/leases', 200],
    ['GET /v1/{mount}/leases/{role}', 200],
    ['POST /v1/sys/leases/lookup', 400],
    ['POST /v1/sys/leases/revoke', 400],
  ]);
});

test('a path parameter the route does not declare is a 400 naming it', async () => {
  const res = await dispatch(deps, request({ op: 'creds', method: 'POST', pathParameters: { mount: 'c1', role: 'r', name: 'n' } }));
  expect(res.status).toBe(400);
  expect(errorsOf(res.body)).toEqual(['name: unexpected path parameter']);
});

test('several bad parameters are named together, in path order', async () => {
  const res = await dispatch(deps, request({ op: 'roles', method: 'GET', pathParameters: { mount: 'A', name: '-x' } }));
  expect(res.status).toBe(400);
  expect(errorsOf(res.body).map((e) => e.split(':')[0])).toEqual(['mount', 'name']);
});

test('leases.list serves both /leases and /leases/{role}', async () => {
  const all = await dispatch(deps, request({ op: 'leases.list', method: 'GET', query: { list: 'true' }, pathParameters: { mount: 'c1' } }));
  const one = await dispatch(deps, request({ op: 'leases.list', method: 'GET', query: { list: 'true' }, pathParameters: { mount: 'c1', role: 'deploy' } }));
  expect([all.status, one.status]).toEqual([200, 200]);
  expect((one.body as { data: unknown }).data).toEqual({ keys: [], key_info: {} });
});

test('LIST arrives as GET ?list=true; a GET without it is refused as Vault does', async () => {
  const res = await dispatch(deps, request({ op: 'roles.list', method: 'GET', pathParameters: { mount: 'c1' } }));
  expect(res).toEqual({ status: 405, body: { errors: ['GET is not supported on roles (use GET ?list=true)'] } });
});
