/**
 * An expiry the sweeper must act on but DynamoDB TTL never will: TTL skips items whose TTL lies
 * more than five years in the past (AWS and DynamoDB Local alike), so the test, not TTL's timing,
 * decides who ends these leases. With an expiry just past, DynamoDB Local's TTL removes the item
 * within seconds, whenever its scan comes round.
 */
export const pastTtlReach = (): number => Math.floor(Date.now() / 1000) - 6 * 365 * 86_400;
