/**
 * The REST API: one AWS_IAM method per route of lib/http/routes.ts, a resource policy that
 * admits only `allowedAccounts`, JSON access logs, and Vault-style gateway error responses.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { routes, type FunctionName } from '../lib/http/routes.js';
import type { KubeleaseBrokerProps } from './broker.js';
import type { BrokerFunctions } from './broker-functions.js';
import { acknowledge } from './nag.js';

export interface BrokerApiProps {
  props: KubeleaseBrokerProps;
  functions: BrokerFunctions;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

export function createApi(scope: Construct, { props, functions, logRetention, removalPolicy }: BrokerApiProps): apigw.RestApi {
  const accounts = props.allowedAccounts && props.allowedAccounts.length > 0 ? props.allowedAccounts : [Stack.of(scope).account];
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', { retention: logRetention, removalPolicy });
  const format = accessLogFormat();

  const api = new apigw.RestApi(scope, 'Api', {
    description: 'kubelease: Vault Kubernetes secrets engine API, AWS IAM (SigV4) auth',
    endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
    policy: resourcePolicy(accounts),
    cloudWatchRole: props.cloudWatchRole ?? true,
    // CDK refuses a removal policy for a role it does not create
    ...((props.cloudWatchRole ?? true) ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
    defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
    deployOptions: {
      stageName: props.stageName ?? 'api',
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigw.AccessLogFormat.custom(format),
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: true,
      tracingEnabled: props.tracing ?? false,
      throttlingRateLimit: props.throttle?.rateLimit ?? 50,
      throttlingBurstLimit: props.throttle?.burstLimit ?? 100,
    },
  });
  // Resource policy and gateway responses only take effect with a new deployment.
  api.latestDeployment?.addToLogicalId({ accounts, format, responses: 'vault-errors-v1' });

  // Vault clients parse {"errors": [...]}: give API Gateway's own 4xx/5xx (SigV4 failures,
  // throttling, unknown paths) the same envelope.
  for (const [id, type] of [
    ['Default4xx', apigw.ResponseType.DEFAULT_4XX],
    ['Default5xx', apigw.ResponseType.DEFAULT_5XX],
  ] as const) {
    api.addGatewayResponse(id, {
      type,
      templates: { 'application/json': '{"errors":[$context.error.messageString]}' },
    });
  }

  // One integration per function; its invoke permission is scoped to this API.
  const integrations = new Map<FunctionName, apigw.LambdaIntegration>();
  const integrationFor = (fn: FunctionName) => {
    let i = integrations.get(fn);
    if (!i) {
      i = new apigw.LambdaIntegration(functions[fn], { proxy: true, scopePermissionToMethod: false });
      integrations.set(fn, i);
    }
    return i;
  };
  for (const route of routes) {
    const resource = api.root.resourceForPath(route.path);
    for (const method of route.methods) {
      resource.addMethod(method, integrationFor(route.fn), { authorizationType: apigw.AuthorizationType.IAM });
    }
  }

  if (props.webAclArn) {
    new wafv2.CfnWebACLAssociation(scope, 'WebAcl', {
      resourceArn: api.deploymentStage.stageArn,
      webAclArn: props.webAclArn,
    });
  } else {
    acknowledge(
      api.deploymentStage,
      'AwsSolutions-APIG3',
      'Every method requires SigV4 (AWS_IAM) and the resource policy admits only allowedAccounts; the stage is throttled. Pass webAclArn to attach a WAF.',
    );
  }
  acknowledgeApiFindings(api, props.cloudWatchRole ?? true);
  return api;
}

/** Callers from `accounts` only: an allow for them plus an explicit deny for everyone else. */
function resourcePolicy(accounts: string[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AllowedAccounts',
        effect: iam.Effect.ALLOW,
        principals: accounts.map((a) => new iam.AccountPrincipal(a)),
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new iam.PolicyStatement({
        sid: 'DenyOtherAccounts',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringNotEquals: { 'aws:PrincipalAccount': accounts } },
      }),
    ],
  });
}

/** JSON, one line per request: who, what, outcome. No headers, no bodies, no query strings. */
function accessLogFormat(): string {
  const f = apigw.AccessLogField;
  const quoted: Record<string, string> = {
    requestId: f.contextRequestId(),
    extendedRequestId: f.contextExtendedRequestId(),
    requestTime: f.contextRequestTime(),
    httpMethod: f.contextHttpMethod(),
    resourcePath: f.contextResourcePath(),
    path: f.contextPath(),
    status: f.contextStatus(),
    responseLength: f.contextResponseLength(),
    responseLatency: f.contextResponseLatency(),
    integrationLatency: f.contextIntegrationLatency(),
    integrationStatus: f.contextIntegrationStatus(),
    sourceIp: f.contextIdentitySourceIp(),
    userAgent: f.contextIdentityUserAgent(),
    accountId: f.contextIdentityAccountId(),
    caller: f.contextIdentityCaller(),
    user: f.contextIdentityUser(),
    userArn: f.contextIdentityUserArn(),
    errorType: f.contextErrorResponseType(),
  };
  return `{${Object.entries(quoted)
    .map(([k, v]) => `"${k}":"${v}"`)
    // messageString is already a JSON string literal (quotes escaped)
    .concat(`"error":${f.contextErrorMessageString()}`)
    .join(',')}}`;
}

function acknowledgeApiFindings(api: apigw.RestApi, cloudWatchRole: boolean): void {
  acknowledge(
    api,
    'AwsSolutions-APIG2',
    'Handlers validate every body with the shared zod schemas and answer in the Vault error envelope naming the field; an API Gateway validator would answer in a different shape.',
  );
  acknowledge(
    api,
    'AwsSolutions-COG4',
    'Callers are IAM principals (CI roles, admins) authenticated with SigV4 (AWS_IAM on every method); there are no Cognito users.',
  );
  if (cloudWatchRole) {
    acknowledge(
      api,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'The account-level API Gateway logging role uses the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy, made for exactly this role.',
    );
  }
}
