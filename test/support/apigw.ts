/** API Gateway REST (v1) proxy events, shaped like the real ones, for driving handlers. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { matchSegments, type RouteMatch } from '../../lib/http/routes.js';
import { iamIdentity } from '../../lib/local/api-gateway-identity.js';

/** A concrete path like `/v1/prod/creds/ci` → its route, as API Gateway matches it. */
export function matchRoute(path: string): RouteMatch | undefined {
  return matchSegments(path.replace(/\/+$/, '').split('/').slice(1).map((p) => decodeURIComponent(p)));
}

export interface EventInput {
  method: string;
  path: string;
  body?: unknown;
  query?: Record<string, string>;
  /** caller ARN; null = no IAM identity */
  arn: string | null;
}

export function restEvent({ method, path, body, query, arn }: EventInput): APIGatewayProxyEvent {
  const match = matchRoute(path);
  if (!match) throw new Error(`no route for ${path}`);
  const account = arn?.split(':')[4] ?? null;
  return {
    resource: match.route.path,
    path,
    httpMethod: method,
    headers: { 'content-type': 'application/json', host: 'abc123.execute-api.us-east-1.amazonaws.com' },
    multiValueHeaders: {},
    queryStringParameters: query ?? null,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : null,
    stageVariables: null,
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      path: `/prod${path}`,
      stage: 'prod',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: match.route.path,
      identity: iamIdentity({
        accessKey: arn ? 'ASIAEXAMPLE' : null,
        accountId: account,
        caller: arn ? 'AROAEXAMPLE:session' : null,
        sourceIp: '127.0.0.1',
        userAgent: 'kubelease-test',
        userArn: arn,
      }),
    },
  };
}
