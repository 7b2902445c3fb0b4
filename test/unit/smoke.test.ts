import middy from '@middy/core';
import * as k8s from '@kubernetes/client-node';
test('esm deps load', () => {
  expect(typeof middy).toBe('function');
  expect(typeof k8s.KubeConfig).toBe('function');
});
