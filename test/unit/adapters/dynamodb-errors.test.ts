/** Issue 10, item 4: a DynamoDB refusal caused by the request is a 400, never a 502. */
import { storeError } from '../../../lib/adapters/dynamodb/util.js';

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $fault: 'client' });

describe('storeError', () => {
  test('ValidationException (key or item too large) → 400 without the table name', () => {
    const e = storeError('Kubelease-Leases-1A2B', 'PutItem', awsError('ValidationException', 'Item size has exceeded the maximum allowed size'));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/too large/);
    expect(e.message).not.toContain('Kubelease-Leases-1A2B');
  });

  test('throttling stays 503 and other failures 502', () => {
    expect(storeError('t', 'GetItem', awsError('ThrottlingException', 'slow down')).status).toBe(503);
    expect(storeError('t', 'GetItem', awsError('AccessDeniedException', 'no')).status).toBe(502);
  });
});
