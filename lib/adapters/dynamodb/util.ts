/** Small helpers shared by the DynamoDB stores. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
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

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Plain unmarshalling of a low-level item (e.g. a stream image). Numbers become JS numbers,
 * sets become arrays, binary stays Uint8Array. Written here to avoid a dependency on
 * @aws-sdk/util-dynamodb, which package.json does not declare.
 */
export function unmarshallValue(v: AttributeValue): unknown {
  // DynamoDB Local 3.x streams drop the type of empty collections ({} instead of {"M":{}} or
  // {"L":[]}; awslabs/amazon-dynamodb-local-samples#37). Read it as an empty map; callers that
  // know a list belongs there normalize it (see leaseFromItem).
  if (Object.keys(v).length === 0) return {};
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL !== undefined) return null;
  if (v.M !== undefined) return unmarshallItem(v.M);
  if (v.L !== undefined) return v.L.map(unmarshallValue);
  if (v.SS !== undefined) return [...v.SS];
  if (v.NS !== undefined) return v.NS.map(Number);
  if (v.B !== undefined) return v.B;
  if (v.BS !== undefined) return [...v.BS];
  throw new Error(`unsupported attribute value with keys ${Object.keys(v).join(',')}`);
}

export function unmarshallItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = unmarshallValue(v);
  return out;
}
