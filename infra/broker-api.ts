/**
 * The REST API: one AWS_IAM method per route of lib/http/routes.ts, a resource policy that
 * admits only `allowedAccounts`, JSON access logs, Vault-style gateway error responses, and
 * optionally a custom domain name and a WAF web ACL.
 */
import { Aws, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { routes, type FunctionName } from '../lib/http/routes.js';
import { capitalize, type BrokerFunctions } from './broker-functions.js';
import { acknowledge } from './nag.js';
import type { BrokerDomainProps, ResolvedBrokerProps } from './props.js';

export interface BrokerApiProps {
  props: ResolvedBrokerProps;
  functions: BrokerFunctions;
}

export interface BrokerApi {
  api: apigw.RestApi;
  domain: apigw.DomainName | undefined;
}

export function createApi(scope: Construct, { props, functions }: BrokerApiProps): BrokerApi {
  const accounts = props.allowedAccounts ?? [Stack.of(scope).account];
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
  const format = accessLogFormat();

  const api = new apigw.RestApi(scope, 'Api', {
    // the ApiName dimension of the API's metrics: unique per deployment, or alarms would mix them
    restApiName: Names.uniqueResourceName(scope, { maxLength: 128, separator: '-' }),
    description: 'kubelease: Vault Kubernetes secrets engine API, AWS IAM (SigV4) auth',
    endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
    policy: resourcePolicy(accounts),
    cloudWatchRole: props.cloudWatchRole,
    // CDK refuses a removal policy for a role it does not create
    ...(props.cloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
    disableExecuteApiEndpoint: props.domain?.disableExecuteApiEndpoint ?? false,
    defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
    deployOptions: {
      stageName: props.stageName,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigw.AccessLogFormat.custom(format),
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: true,
      tracingEnabled: props.tracing,
      throttlingRateLimit: props.throttle.rateLimit,
      throttlingBurstLimit: props.throttle.burstLimit,
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

  // One proxy integration per function. Not LambdaIntegration: its permission would admit any
  // stage of the API (`/*/*/*`); the one below admits this stage only.
  const integrations = new Map<FunctionName, apigw.Integration>();
  const integrationFor = (fn: FunctionName) => {
    let i = integrations.get(fn);
    if (!i) {
      i = new apigw.Integration({
        type: apigw.IntegrationType.AWS_PROXY,
        integrationHttpMethod: 'POST',
        uri: `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}:lambda:path/2015-03-31/functions/${functions[fn].functionArn}/invocations`,
      });
      functions[fn].addPermission(`Invoke${capitalize(fn)}FromApi`, {
        principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        sourceArn: api.arnForExecuteApi('*', '/*', props.stageName),
        sourceAccount: Stack.of(scope).account,
      });
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
  acknowledgeApiFindings(api, props.cloudWatchRole);
  const domain = props.domain ? addDomain(scope, api, props.domain) : undefined;
  return { api, domain };
}

/** `https://<domainName>/[<basePath>/]v1/...` → this API's stage; an alias record when a zone is given. */
function addDomain(scope: Construct, api: apigw.RestApi, domain: BrokerDomainProps): apigw.DomainName {
  const name = new apigw.DomainName(scope, 'Domain', {
    domainName: domain.domainName,
    certificate: domain.certificate,
    endpointType: apigw.EndpointType.REGIONAL,
    securityPolicy: apigw.SecurityPolicy.TLS_1_2,
  });
  name.addBasePathMapping(api, { stage: api.deploymentStage, ...(domain.basePath ? { basePath: domain.basePath } : {}) });
  if (domain.hostedZone) {
    new route53.ARecord(scope, 'DomainAlias', {
      zone: domain.hostedZone,
      recordName: domain.domainName,
      target: route53.RecordTarget.fromAlias(new route53Targets.ApiGatewayDomain(name)),
    });
  }
  return name;
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
