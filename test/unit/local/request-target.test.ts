/** The local server's one parse of a request target (issue 10, item 10). */
import { BadRequestTarget, parseRequestTarget, pathProblem } from '../../../lib/local/request-target.js';

test('paths in canonical form parse into decoded segments; the root is one too', () => {
  expect(parseRequestTarget('/v1/local/roles/demo%2Dx?list=true&x=a+b&x=%20')).toEqual({
    rawPath: '/v1/local/roles/demo%2Dx',
    segments: ['v1', 'local', 'roles', 'demo-x'],
    rawQuery: 'list=true&x=a+b&x=%20',
    query: { list: ['true'], x: ['a+b', ' '] },
  });
  expect(parseRequestTarget('/?Action=GetCallerIdentity').segments).toEqual([]);
});

test.each([
  ['/v1/local/roles/.', '"." and ".."'],
  ['/v1/local/roles/%2E%2E', '"." and ".."'],
  ['/v1//mounts', 'empty segments'],
  ['/v1/mounts/', 'empty segments'],
  ['/v1/local/roles/a%2Fb', 'encoded "/"'],
  ['/v1/local/roles/%E0%A4%A', 'percent-encoding'],
  ['v1/mounts', 'must start with "/"'],
])('%s is refused (%s)', (path, why) => {
  expect(pathProblem(path)).toContain(why);
  expect(() => parseRequestTarget(path)).toThrow(BadRequestTarget);
});

test('a query with bad percent-encoding is refused', () => {
  expect(() => parseRequestTarget('/v1/mounts?list=%zz')).toThrow(/query: invalid percent-encoding/);
});
