/**
 * The kube build patches reflect2 (scripts/build-kube.sh): unpatched, an apiserver built with
 * Go >= 1.18 crashes as soon as it pretty-prints a map, which it does for every curl request.
 */
import { request } from 'node:https';
import { loadBed } from '../support/bed.js';

function get(path: string, userAgent: string): Promise<{ status: number; body: string }> {
  const bed = loadBed();
  const url = new URL(path, bed.apiserver.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: bed.apiserver.caPem,
        cert: bed.admin.clientCertPem,
        key: bed.admin.clientKeyPem,
        headers: { 'user-agent': userAgent, accept: 'application/json' },
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('a curl client gets pretty-printed JSON with maps, and the apiserver stays up', async () => {
  const res = await get('/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication', 'curl/7.88.1');
  expect(res.status).toBe(200);
  expect(res.body).toMatch(/\n {2}"metadata": \{/); // pretty-printed
  expect(res.body).toMatch(/"data": \{/); // a map was printed
  const again = await get('/readyz', 'curl/7.88.1');
  expect(again).toMatchObject({ status: 200, body: 'ok' });
});
