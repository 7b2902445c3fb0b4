import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** The Lambda context a function runs with when a test invokes its handler directly. */
export const lambdaContext = (fn: string, { logStreamName = 'reliability', remainingMs = 60_000 } = {}): Context => ({
  awsRequestId: randomUUID(),
  functionName: `kubelease-${fn}`,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:kubelease-${fn}`,
  memoryLimitInMB: '512',
  logGroupName: `/aws/lambda/kubelease-${fn}`,
  logStreamName,
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => remainingMs,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
