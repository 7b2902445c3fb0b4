/** The DynamoDB document client the stores use (CDK owns the real tables; lib/local creates local ones). */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoClientOptions {
  region?: string;
  /** e.g. http://127.0.0.1:8000 for DynamoDB Local; Lambda leaves it unset */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** passed through to DynamoDBClient (retries, logger, ...) */
  extra?: Omit<DynamoDBClientConfig, 'region' | 'endpoint' | 'credentials'>;
}

/**
 * Per-attempt limits of a DynamoDB call. The SDK sets none: a call whose answer never comes
 * (a dropped connection, a stalled endpoint) would hang until the Lambda times out. With these,
 * each attempt gives up and the SDK's own retries (DynamoDB: 4 attempts, jittered) carry on.
 */
export const DYNAMO_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true } as const;

/** A document client that drops undefined attributes (optional fields stay absent). */
export function createDocumentClient(options: DynamoClientOptions = {}): DynamoDBDocumentClient {
  const config: DynamoDBClientConfig = { requestHandler: { ...DYNAMO_TIMEOUTS }, ...options.extra };
  if (options.region) config.region = options.region;
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) config.credentials = options.credentials;
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}
