/**
 * Bounded retries with jitter (lib/adapters/retry.ts) and the Kubernetes rules for what may be
 * retried (kubeRetryDecision), plus the 409 mapping the fault suite showed wrong: a Conflict from
 * the cluster on anything but a create (AlreadyExists) or a guarded delete is not the caller's
 * doing.
 */
import { ApiException } from '@kubernetes/client-node';
import { kubeRetryDecision, mapKubeError, type KubeOperation } from '../../../lib/adapters/kubernetes/errors.js';
import { backoffMs, retryAfterMs, withRetries } from '../../../lib/adapters/retry.js';

const apiError = (code: number, reason: string, headers: Record<string, string> = {}) =>
  new ApiException<string>(code, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: `${reason} (test)` }), {
    'content-type': 'application/json',
    ...headers,
  });

const netError = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });
const timeout = () => Object.assign(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));

describe('withRetries', () => {
  const noSleep = { sleep: async () => undefined };

  test('stops at the attempt limit and rethrows the last failure', async () => {
    let calls = 0;
    const fail = () => {
      calls++;
      return Promise.reject(new Error(`failure ${calls}`));
    };
    await expect(withRetries(fail, () => ({ retry: true }), { ...noSleep, attempts: 3 })).rejects.toThrow('failure 3');
    expect(calls).toBe(3);
  });

  test('does not retry what the classifier refuses', async () => {
    let calls = 0;
    await expect(withRetries(() => Promise.reject(new Error(`x${++calls}`)), () => ({ retry: false }), noSleep)).rejects.toThrow('x1');
    expect(calls).toBe(1);
  });

  test('returns the first success', async () => {
    let calls = 0;
    const flaky = async () => (++calls < 2 ? Promise.reject(new Error('once')) : 'ok');
    expect(await withRetries(flaky, () => ({ retry: true }), noSleep)).toBe('ok');
    expect(calls).toBe(2);
  });

  test('waits: full jitter under a doubling ceiling, Retry-After honoured, everything capped', () => {
    expect(backoffMs(1, { retry: true }, { random: () => 0.999, baseMs: 100 })).toBe(99);
    expect(backoffMs(2, { retry: true }, { random: () => 0.999, baseMs: 100 })).toBe(199);
    expect(backoffMs(2, { retry: true }, { random: () => 0, baseMs: 100 })).toBe(0);
    expect(backoffMs(6, { retry: true }, { random: () => 0.999, baseMs: 100, capMs: 2000 })).toBe(1998);
    expect(backoffMs(1, { retry: true, afterMs: 1000 }, { random: () => 0.5, baseMs: 100 })).toBe(1050);
    expect(backoffMs(1, { retry: true, afterMs: 60_000 }, { random: () => 0.5, capMs: 2000 })).toBe(2000);
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    expect(retryAfterMs('1')).toBe(1000);
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(new Date(10_000).toUTCString(), 7_000)).toBe(3000);
  });
});

describe('kubeRetryDecision', () => {
  test('429 always, with its Retry-After', () => {
    expect(kubeRetryDecision(apiError(429, 'TooManyRequests', { 'retry-after': '1' }), false)).toEqual({ retry: true, afterMs: 1000 });
    expect(kubeRetryDecision(apiError(429, 'TooManyRequests'), true)).toEqual({ retry: true });
  });

  test('5xx and lost connections only when idempotent', () => {
    for (const code of [500, 502, 503, 504]) {
      expect([code, kubeRetryDecision(apiError(code, 'InternalError'), true).retry]).toEqual([code, true]);
      expect([code, kubeRetryDecision(apiError(code, 'InternalError'), false).retry]).toEqual([code, false]);
    }
    expect(kubeRetryDecision(netError('ECONNRESET'), true).retry).toBe(true);
    expect(kubeRetryDecision(netError('UND_ERR_SOCKET'), true).retry).toBe(true);
    expect(kubeRetryDecision(netError('ECONNRESET'), false).retry).toBe(false);
  });

  test('a refused connection always (nothing was sent); a timeout never; 4xx never', () => {
    expect(kubeRetryDecision(netError('ECONNREFUSED'), false).retry).toBe(true);
    expect(kubeRetryDecision(timeout(), true).retry).toBe(false);
    for (const code of [400, 401, 403, 404, 409, 422]) expect([code, kubeRetryDecision(apiError(code, 'X'), true).retry]).toEqual([code, false]);
  });
});

describe('409 from the cluster', () => {
  const op = (verb: string, resource: string): KubeOperation => ({ verb, resource, namespace: 'team', name: 'kl-x' });

  test('AlreadyExists on a create stays a conflict (a name_template collision the admin can fix)', () => {
    expect(mapKubeError(apiError(409, 'AlreadyExists'), op('create', 'serviceaccounts')).kind).toBe('conflict');
  });

  test('a failed uid precondition on a delete stays a conflict (the guard reads it as "not ours")', () => {
    expect(mapKubeError(apiError(409, 'Conflict'), op('delete', 'serviceaccounts')).kind).toBe('conflict');
  });

  test('any other Conflict is the cluster failing the broker: 502, not a 409 to the caller', () => {
    for (const [verb, resource] of [['get', 'namespaces'], ['create', 'serviceaccounts/token'], ['create', 'rolebindings'], ['list', 'secrets']]) {
      const e = mapKubeError(apiError(409, 'Conflict'), op(verb!, resource!));
      expect([verb, resource, e.kind, e.status]).toEqual([verb, resource, 'upstream', 502]);
    }
  });
});
