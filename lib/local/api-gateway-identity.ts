import type { APIGatewayEventIdentity } from 'aws-lambda';

/** What an AWS_IAM-authorized caller brings; API Gateway leaves every other identity field null. */
export interface IamCaller {
  accessKey: string | null;
  accountId: string | null;
  caller: string | null;
  sourceIp: string;
  userAgent: string | null;
  userArn: string | null;
}

/** `requestContext.identity` of a REST (v1) proxy event for an IAM-signed request. */
export function iamIdentity(c: IamCaller): APIGatewayEventIdentity {
  return {
    accessKey: c.accessKey,
    accountId: c.accountId,
    apiKey: null,
    apiKeyId: null,
    caller: c.caller,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: c.sourceIp,
    user: c.caller,
    userAgent: c.userAgent,
    userArn: c.userArn,
  };
}
