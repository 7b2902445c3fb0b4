/**
 * mapKubeError, one case per row of its table. Pure (no apiserver needed); it lives next to
 * kube-cluster.test.ts, which shows the same mapping against the real apiserver. Status bodies
 * below are what kube-apiserver v1.20 sends (as client-node's ApiException carries them: JSON text).
 */
import { ApiException } from '@kubernetes/client-node';
import { mapKubeError, quote, type KubeOperation } from '../../../lib/adapters/kubernetes/errors.js';
import { KubeleaseError } from '../../../lib/domain/errors.js';

const apiError = (code: number, status: Record<string, unknown>) =>
  new ApiException<string>(code, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, ...status }), {
    'content-type': 'application/json',
    'audit-id': 'x',
  });

const createRb: KubeOperation = { verb: 'create', resource: 'rolebindings', namespace: 'team-a', name: 'kl-ci-abc', host: '10.0.0.1:443', timeoutMs: 10_000 };

describe('mapKubeError', () => {
  it('403 → upstream, naming verb, resource and namespace, quoting Kubernetes, nothing else', () => {
    const e = mapKubeError(
      apiError(403, {
        reason: 'Forbidden',
        message: 'rolebindings.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:kubelease-system:kubelease-broker" cannot create resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "team-a"',
        details: { group: 'rbac.authorization.k8s.io', kind: 'rolebindings' },
      }),
      createRb,
    );
    expect(e.kind).toBe('upstream');
    expect(e.status).toBe(502);
    expect(e.message).toBe(
      'the broker lacks permission to create rolebindings in namespace "team-a" (Kubernetes: rolebindings.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:kubelease-system:kubelease-broker" cannot create resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "team-a")',
    );
    expect(e.message).not.toMatch(/HTTP-Code|Headers|audit-id/);
  });

  it('403 for cluster-scoped objects says cluster-wide', () => {
    const e = mapKubeError(apiError(403, { reason: 'Forbidden', message: 'clusterroles.rbac.authorization.k8s.io is forbidden: …' }), {
      verb: 'create',
      resource: 'clusterroles',
      name: 'x',
    });
    expect(e.message).toMatch(/^the broker lacks permission to create clusterroles \(cluster-wide\) \(Kubernetes: /);
  });

  it('403 escalation → explains `bind` for bindings and `escalate` for roles', () => {
    const msg =
      'rolebindings.rbac.authorization.k8s.io "kl-ci-abc" is forbidden: user "system:serviceaccount:kubelease-system:kubelease-broker" (groups=["system:serviceaccounts"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}';
    const bind = mapKubeError(apiError(403, { reason: 'Forbidden', message: msg }), createRb);
    expect(bind.message).toMatch(/^the broker cannot create rolebinding "kl-ci-abc" in namespace "team-a": .*lacks the "bind" verb on the referenced role \(Kubernetes: /);
    expect(bind.message).not.toContain('\n');
    const esc = mapKubeError(apiError(403, { reason: 'Forbidden', message: msg.replace('rolebindings', 'roles') }), { ...createRb, resource: 'roles' });
    expect(esc.message).toContain('lacks the "escalate" verb on roles');
  });

  it('401 → upstream: the cluster rejected the broker credentials (client-node gives no body)', () => {
    const e = mapKubeError(new ApiException(401, 'Unauthorized', undefined, {}), createRb);
    expect(e.kind).toBe('upstream');
    expect(e.message).toMatch(/^the cluster rejected the broker's credentials \(401 Unauthorized\)/);
  });

  it('404 on a TokenRequest → invalid naming the service account; missing namespace on create → invalid', () => {
    const sa = mapKubeError(apiError(404, { reason: 'NotFound', message: 'serviceaccounts "ci" not found', details: { name: 'ci', kind: 'serviceaccounts' } }), {
      verb: 'create',
      resource: 'serviceaccounts/token',
      namespace: 'team-a',
      name: 'ci',
    });
    expect(sa.kind).toBe('invalid');
    expect(sa.message).toBe('service account "ci" does not exist in namespace "team-a"');
    const ns = mapKubeError(apiError(404, { reason: 'NotFound', message: 'namespaces "team-z" not found', details: { name: 'team-z', kind: 'namespaces' } }), {
      ...createRb,
      namespace: 'team-z',
    });
    expect(ns.kind).toBe('invalid');
    expect(ns.message).toBe('namespace "team-z" does not exist in the cluster');
    const read = mapKubeError(apiError(404, { reason: 'NotFound', message: 'roles.rbac.authorization.k8s.io "r" not found' }), {
      verb: 'get',
      resource: 'roles',
      namespace: 'team-a',
      name: 'r',
    });
    expect(read.kind).toBe('not_found');
  });

  it('409 AlreadyExists → conflict', () => {
    const e = mapKubeError(apiError(409, { reason: 'AlreadyExists', message: 'rolebindings.rbac.authorization.k8s.io "kl-ci-abc" already exists' }), createRb);
    expect(e.kind).toBe('conflict');
    expect(e.message).toBe('rolebinding "kl-ci-abc" already exists in namespace "team-a"');
  });

  it('422 Invalid → invalid with every Kubernetes cause', () => {
    const e = mapKubeError(
      apiError(422, {
        reason: 'Invalid',
        message: 'TokenRequest.authentication.k8s.io "ci" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
        details: {
          name: 'ci',
          group: 'authentication.k8s.io',
          kind: 'TokenRequest',
          causes: [
            { reason: 'FieldValueInvalid', message: 'Invalid value: 599: may not specify a duration less than 10 minutes', field: 'spec.expirationSeconds' },
            { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.audiences' },
          ],
        },
      }),
      { verb: 'create', resource: 'serviceaccounts/token', namespace: 'team-a', name: 'ci' },
    );
    expect(e.kind).toBe('invalid');
    expect(e.errors).toEqual([
      'the cluster refused a token for service account "ci": spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
      'the cluster refused a token for service account "ci": spec.audiences: Required value',
    ]);
  });

  it('400 → invalid; 429/503/504 → unavailable; other 5xx → upstream', () => {
    expect(mapKubeError(apiError(400, { reason: 'BadRequest', message: 'bad' }), createRb).kind).toBe('invalid');
    for (const code of [429, 503, 504]) expect(mapKubeError(apiError(code, { message: 'slow down' }), createRb).kind).toBe('unavailable');
    const e = mapKubeError(apiError(500, { reason: 'InternalError', message: 'etcdserver: request timed out' }), createRb);
    expect(e.kind).toBe('upstream');
    expect(e.message).toContain('etcdserver: request timed out');
  });

  it('carries the status the cluster answered, so callers react to it without reading the message', () => {
    expect([400, 401, 403, 404, 409, 422, 429, 500].map((code) => mapKubeError(apiError(code, { message: 'm' }), createRb).upstreamStatus)).toEqual([
      400, 401, 403, 404, 409, 422, 429, 500,
    ]);
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    expect(mapKubeError(refused, createRb).upstreamStatus).toBeUndefined();
  });

  it('a non-JSON body is quoted, collapsed and truncated', () => {
    const e = mapKubeError(new ApiException(502, 'x', `<html>\n  ${'gateway '.repeat(100)}</html>`, {}), createRb);
    expect(e.kind).toBe('upstream');
    expect(e.message.length).toBeLessThan(600);
    expect(e.message).not.toContain('\n');
  });

  it('transport: timeout → unavailable naming the host and the limit', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const e = mapKubeError(timeout, { verb: 'list', resource: 'secrets', host: '10.0.0.1:443', timeoutMs: 10_000 });
    expect(e.kind).toBe('unavailable');
    expect(e.message).toBe('the cluster at 10.0.0.1:443 did not answer within 10 s (list secrets)');
  });

  it('transport: fetch failed / ECONNREFUSED → unavailable; TLS errors → upstream about the CA', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }) });
    expect(mapKubeError(refused, createRb)).toMatchObject({ kind: 'unavailable', message: 'cannot reach the cluster at 10.0.0.1:443 (ECONNREFUSED)' });
    const tls = new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
    const t = mapKubeError(tls, createRb);
    expect(t.kind).toBe('upstream');
    expect(t.message).toContain('check kubernetes_ca_cert');
  });

  it('passes KubeleaseErrors through and never echoes bearer tokens', () => {
    const mine = new KubeleaseError('unavailable', 'STS down');
    expect(mapKubeError(mine, createRb)).toBe(mine);
    const jwt = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlc2lnbmF0dXJl';
    const e = mapKubeError(apiError(403, { message: `weird proxy says Authorization: Bearer ${jwt} and ${jwt}` }), createRb);
    expect(e.message).not.toContain(jwt);
    expect(quote('token k8s-aws-v1.aHR0cHM6Ly9zdHM')).toBe('token k8s-aws-v1.[redacted]');
  });
});
