import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from './bed.js';

/**
 * An expiry the sweeper must act on but DynamoDB TTL never will: TTL skips items whose TTL lies
 * more than five years in the past (AWS and DynamoDB Local alike), so the test, not TTL's timing,
 * decides who ends these leases. With an expiry just past, DynamoDB Local's TTL removes the item
 * within seconds, whenever its scan comes round.
 */
const pastTtlReach = (): number => Math.floor(Date.now() / 1000) - 6 * 365 * 86_400;

/** Expires a lease item in place, beyond TTL's reach: it lingers until the sweeper or the test ends it. */
export const expireBeyondTtl = (leasesTable: string, leaseId: string) =>
  dynamoClient().send(
    new UpdateItemCommand({
      TableName: leasesTable,
      Key: { lease_id: { S: leaseId } },
      UpdateExpression: 'SET expires_at = :t',
      ExpressionAttributeValues: { ':t': { N: String(pastTtlReach()) } },
    }),
  );
