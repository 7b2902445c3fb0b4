/**
 * The kube build patches reflect2 (scripts/build-kube.sh): unpatched, an apiserver built with
 * Go >= 1.18 crashes as soon as it pretty-prints a map, which it does for every curl request.
 * And every server the bed starts listens on loopback only (DynamoDB Local via our launcher).
 */
import { readFileSync } from 'node:fs';
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

/** Local addresses of the sockets listening on `port`, from /proc/net/tcp{,6} (no traffic sent). */
function listenAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A = LISTEN
      const [addr, p] = local.split(':');
      if (p === hexPort && addr) out.push(addr);
    }
  }
  return out;
}

const IPV4_LOOPBACK = '0100007F'; // 127.0.0.1, little-endian
const IPV6_MAPPED_LOOPBACK = '0000000000000000FFFF00000100007F';

test('the apiserver, DynamoDB Local, the EKS authenticator and STS listen on 127.0.0.1 only', () => {
  const bed = loadBed();
  for (const url of [bed.apiserver.url, bed.dynamodb.endpoint, bed.eks.authenticatorUrl, bed.eks.stsEndpoint]) {
    const addresses = listenAddresses(Number(new URL(url).port));
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) expect([IPV4_LOOPBACK, IPV6_MAPPED_LOOPBACK]).toContain(a);
  }
});
