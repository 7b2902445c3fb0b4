/**
 * The cold-start anchor: the smallest honest Lambda on this stack — middy with Powertools
 * logger and metrics middlewares and a DynamoDB client that reads one item. Bundled with the
 * broker's own esbuild options (test/bench/cold-start.bench.ts); its module init is what any
 * function built this way pays before doing anything of its own.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';

const logger = new Logger({ serviceName: 'minimal' });
const metrics = new Metrics({ namespace: 'Minimal', serviceName: 'minimal' });
const client = new DynamoDBClient({});

export const handler = middy(async (event: { key?: string }) => {
  const out = await client.send(new GetItemCommand({ TableName: process.env.TABLE ?? 'minimal', Key: { id: { S: event.key ?? 'x' } } }));
  return { statusCode: 200, body: JSON.stringify(out.Item ?? {}) };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
