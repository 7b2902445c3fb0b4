/** Small helpers shared by the DynamoDB stores. */
import { KubeleaseError } from '../../domain/errors.js';

export const isConditionalCheckFailed = (e: unknown): boolean =>
  e instanceof Error && e.name === 'ConditionalCheckFailedException';

const UNAVAILABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
]);

/**
 * Maps SDK failures to KubeleaseErrors, keeping the cause: a ValidationException is the request's
 * fault (a key or item too large: 400, and the bounds in lib/domain should have caught it),
 * throttling or an unreachable endpoint is 503, anything else 502.
 */
export function storeError(table: string, op: string, e: unknown): KubeleaseError {
  if (e instanceof KubeleaseError) return e;
  const name = e instanceof Error ? e.name : 'Error';
  if (name === 'ValidationException') {
    return new KubeleaseError('invalid', `the request could not be stored or looked up: DynamoDB refused ${op} (a name or value is too large)`, { cause: e });
  }
  const code = (e as { code?: unknown } | undefined)?.code;
  const kind = UNAVAILABLE.has(name) || (typeof code === 'string' && UNAVAILABLE.has(code)) ? 'unavailable' : 'upstream';
  return new KubeleaseError(kind, `DynamoDB ${op} on ${table} failed (${name})`, { cause: e });
}

export async function call<T>(table: string, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw storeError(table, op, e);
  }
}
