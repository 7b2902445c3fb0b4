/**
 * Mapping of DynamoDB Local stream records to what Lambda receives. The inputs are records as
 * DynamoDB Local 2026-05-28 really emits them (captured from GetRecords): a TTL deletion with
 * eventName UNKNOWN_TO_SDK_VERSION, no userIdentity and the whole item as Keys; a DeleteItem as
 * a plain REMOVE.
 */
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { isTtlRemoval } from '../../../lib/lambda/expire-handler.js';
import { toLambdaRecord } from '../../../lib/local/stream-poller.js';

const ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/t-leases/stream/2026-11-25T14:23:55.851';
const image = { expires_at: { N: '1795616576' }, role_lease: { S: 'r#ttl-1' }, mount: { S: 'm' }, lease_id: { S: 'ttl-1' } };

const ttlDelete = {
  eventID: '5cd6d0e1',
  eventName: 'UNKNOWN_TO_SDK_VERSION',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'ddblocal',
  dynamodb: {
    ApproximateCreationDateTime: new Date('2026-11-25T14:23:00.000Z'),
    Keys: image,
    OldImage: image,
    SequenceNumber: '000000000000000000004',
    SizeBytes: 104,
    StreamViewType: 'OLD_IMAGE',
  },
} as unknown as _Record;

const userDelete = {
  eventID: 'bdd1500b',
  eventName: 'REMOVE',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'ddblocal',
  dynamodb: {
    ApproximateCreationDateTime: new Date('2026-11-25T14:23:00.000Z'),
    Keys: { lease_id: { S: 'del-1' } },
    OldImage: { ...image, lease_id: { S: 'del-1' } },
    SequenceNumber: '000000000000000000003',
    SizeBytes: 65,
    StreamViewType: 'OLD_IMAGE',
  },
} as unknown as _Record;

const insert = {
  eventID: '89a96179',
  eventName: 'INSERT',
  eventVersion: '1.1',
  awsRegion: 'ddblocal',
  dynamodb: { Keys: { lease_id: { S: 'x' } }, SequenceNumber: '000000000000000000001', SizeBytes: 13, StreamViewType: 'OLD_IMAGE' },
} as unknown as _Record;

test('a DynamoDB Local TTL deletion becomes the REMOVE by dynamodb.amazonaws.com that AWS sends', () => {
  const r = toLambdaRecord(ttlDelete, ['lease_id'], ARN);
  expect(r).toEqual({
    eventID: '5cd6d0e1',
    eventName: 'REMOVE',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    eventSourceARN: ARN,
    userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    dynamodb: {
      ApproximateCreationDateTime: 1795616580,
      Keys: { lease_id: { S: 'ttl-1' } },
      OldImage: image,
      SequenceNumber: '000000000000000000004',
      SizeBytes: 104,
      StreamViewType: 'OLD_IMAGE',
    },
  });
  expect(isTtlRemoval(r)).toBe(true);
});

test('a DeleteItem (revoke) stays a user REMOVE that the expire handler ignores', () => {
  const r = toLambdaRecord(userDelete, ['lease_id'], ARN);
  expect(r.eventName).toBe('REMOVE');
  expect(r.userIdentity).toBeUndefined();
  expect(r.dynamodb?.Keys).toEqual({ lease_id: { S: 'del-1' } });
  expect(isTtlRemoval(r)).toBe(false);
});

test('INSERT passes through unchanged and is filtered out', () => {
  const r = toLambdaRecord(insert, ['lease_id'], ARN);
  expect(r).toMatchObject({ eventName: 'INSERT', eventSource: 'aws:dynamodb', dynamodb: { Keys: { lease_id: { S: 'x' } } } });
  expect(r.userIdentity).toBeUndefined();
  expect(isTtlRemoval(r)).toBe(false);
});

test('a real AWS TTL record (REMOVE with service identity) passes through as it is', () => {
  const aws = { ...userDelete, userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' } } as _Record;
  const r = toLambdaRecord(aws, ['lease_id'], ARN);
  expect(r.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
  expect(isTtlRemoval(r)).toBe(true);
});
