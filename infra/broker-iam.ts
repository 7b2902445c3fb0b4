/**
 * Execution roles of the functions and the broker's identity in target clusters (see
 * `KubeleaseBrokerProps.executionRoles`), with least-privilege table and key access per function.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { tables as tableDefs } from '../lib/tables.js';
import { BROKER_FUNCTIONS, capitalize, type BrokerFunction } from './broker-functions.js';
import type { BrokerTables } from './broker-tables.js';
import { acknowledge } from './nag.js';
import type { ResolvedBrokerProps } from './props.js';

type DynamoAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'Scan';
interface FunctionAccess {
  config?: DynamoAction[];
  roles?: DynamoAction[];
  /** Query on the leases table means its GSIs (the lease store always queries an index). */
  leases?: DynamoAction[];
  kms: ('kms:Decrypt' | 'kms:GenerateDataKey')[];
}

/**
 * Least privilege per function, derived from what lib/engine + lib/adapters actually call.
 * No function gets table-level admin actions, BatchWriteItem or Scan beyond config.
 */
// whoever writes a lease conditionally may read it back (GetItem): a failed condition may be the
// SDK's retry finding its own first attempt (lib/adapters/dynamodb/lease-store.ts)
export const FUNCTION_ACCESS: Record<BrokerFunction, FunctionAccess> = {
  // write config reads the old item (decrypts the JWT) and seals the new one; force delete revokes leases
  config: {
    config: ['GetItem', 'PutItem', 'DeleteItem', 'Scan'],
    // deleting a mount deletes its roles
    roles: ['Query', 'DeleteItem'],
    leases: ['GetItem', 'Query', 'UpdateItem', 'DeleteItem'],
    kms: ['kms:Decrypt', 'kms:GenerateDataKey'],
  },
  roles: { config: ['GetItem'], roles: ['GetItem', 'PutItem', 'DeleteItem', 'Query'], kms: ['kms:Decrypt'] },
  creds: { config: ['GetItem'], roles: ['GetItem'], leases: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'], kms: ['kms:Decrypt'] },
  leases: { config: ['GetItem'], leases: ['GetItem', 'Query', 'UpdateItem', 'DeleteItem'], kms: ['kms:Decrypt'] },
  // the item is already gone (TTL): the stream's OLD_IMAGE carries the plan
  expire: { config: ['GetItem'], kms: ['kms:Decrypt'] },
  sweep: { config: ['GetItem', 'Scan'], leases: ['GetItem', 'Query', 'UpdateItem', 'DeleteItem'], kms: ['kms:Decrypt'] },
};

export interface ExecutionRoles {
  /** Per function; the same role six times when `executionRoles` is `shared`. */
  roles: Record<BrokerFunction, iam.Role>;
  /** The one IAM role target clusters must map (EKS access entry / aws-auth). */
  clusterIdentity: iam.Role;
}

export interface ExecutionRolesProps {
  props: Pick<ResolvedBrokerProps, 'executionRoles' | 'assumableRoleArns'>;
  tables: BrokerTables;
  key: kms.IKey;
}

export function createExecutionRoles(scope: Construct, { props, tables, key }: ExecutionRolesProps): ExecutionRoles {
  const lambdaPrincipal = new iam.ServicePrincipal('lambda.amazonaws.com');
  const roles = {} as Record<BrokerFunction, iam.Role>;
  let clusterIdentity: iam.Role;
  if (props.executionRoles === 'shared') {
    const shared = new iam.Role(scope, 'BrokerRole', {
      assumedBy: lambdaPrincipal,
      description: 'kubelease broker: execution role of all functions and the identity target clusters see',
    });
    for (const fn of BROKER_FUNCTIONS) roles[fn] = shared;
    clusterIdentity = shared;
  } else {
    for (const fn of BROKER_FUNCTIONS) {
      roles[fn] = new iam.Role(scope, `${capitalize(fn)}Role`, { assumedBy: lambdaPrincipal, description: `kubelease ${fn} function` });
    }
    const uniqueRoles = BROKER_FUNCTIONS.map((fn) => roles[fn]);
    clusterIdentity = new iam.Role(scope, 'ClusterAccessRole', {
      assumedBy: new iam.CompositePrincipal(...uniqueRoles.map((r) => new iam.ArnPrincipal(r.roleArn))),
      description: 'kubelease broker identity in target clusters: set as role_arn of EKS configs; holds no AWS permissions',
    });
    for (const r of uniqueRoles) clusterIdentity.grantAssumeRole(r);
  }
  for (const fn of BROKER_FUNCTIONS) grantAccess(roles[fn], FUNCTION_ACCESS[fn], tables, key);
  if (props.assumableRoleArns.length > 0) {
    const statement = new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: props.assumableRoleArns });
    for (const r of new Set(Object.values(roles))) {
      r.addToPrincipalPolicy(statement);
      if (props.assumableRoleArns.some((a) => a.includes('*'))) {
        for (const pattern of props.assumableRoleArns.filter((a) => a.includes('*'))) {
          acknowledge(
            r,
            `AwsSolutions-IAM5[Resource::${pattern}]`,
            'assumableRoleArns patterns come from the deployer (role_arn targets of EKS configs); each target role must still trust the broker role.',
          );
        }
      }
    }
  }
  return { roles, clusterIdentity };
}

/** Tracing.ACTIVE adds X-Ray actions on `*` to every execution role; nothing else is unscoped. */
export function acknowledgeTracing(roles: Record<BrokerFunction, iam.Role>): void {
  for (const r of new Set(Object.values(roles))) {
    acknowledge(
      r,
      'AwsSolutions-IAM5[Resource::*]',
      'xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions (added by Tracing.ACTIVE).',
    );
  }
}

function grantAccess(role: iam.Role, access: FunctionAccess, tables: BrokerTables, key: kms.IKey): void {
  for (const name of ['config', 'roles', 'leases'] as const) {
    const actions = access[name];
    if (!actions || actions.length === 0) continue;
    const table = tables[name];
    const itemActions = actions.filter((a) => !(name === 'leases' && a === 'Query'));
    if (itemActions.length > 0) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: itemActions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }));
    }
    if (name === 'leases' && actions.includes('Query')) {
      const indexArns = (tableDefs.leases.globalSecondaryIndexes ?? []).map((g) => `${table.tableArn}/index/${g.name}`);
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }));
    }
  }
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: access.kms, resources: [key.keyArn], conditions: MOUNT_CONTEXT_CONDITIONS }));
}

/**
 * Every KMS call must carry exactly the encryption context that lib/adapters/dynamodb/config-store.ts
 * (`jwtContext`) seals service_account_jwt with: `{mount: <mount>}`. A ciphertext lifted from one
 * config item cannot be opened for another mount, nor by a call without that context.
 */
export const MOUNT_CONTEXT_CONDITIONS = {
  'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['mount'] },
  Null: { 'kms:EncryptionContext:mount': 'false' },
};

/**
 * Key-policy side of the grants, for a key this construct owns: each execution role may use
 * the key for exactly its FUNCTION_ACCESS actions, under the mount context. (An imported key's
 * policy belongs to its owner: docs/deploy.md lists the statements it needs.)
 */
export function allowKeyUse(key: kms.Key, roles: Record<BrokerFunction, iam.Role>): void {
  const actionsByRole = new Map<iam.Role, { fns: BrokerFunction[]; actions: Set<string> }>();
  for (const fn of BROKER_FUNCTIONS) {
    const entry = actionsByRole.get(roles[fn]) ?? { fns: [], actions: new Set<string>() };
    entry.fns.push(fn);
    for (const a of FUNCTION_ACCESS[fn].kms) entry.actions.add(a);
    actionsByRole.set(roles[fn], entry);
  }
  for (const [role, { fns, actions }] of actionsByRole) {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: fns.length === 1 ? `${capitalize(fns[0] as string)}FunctionUse` : 'BrokerFunctionsUse',
        principals: [new iam.ArnPrincipal(role.roleArn)],
        actions: [...actions].sort(),
        resources: ['*'],
        conditions: MOUNT_CONTEXT_CONDITIONS,
      }),
    );
  }
}

/**
 * Lambda in a VPC needs ENI management on the execution role (CDK adds it only to roles it
 * creates itself): the AWS-managed policy made for that, without the logging extras of
 * AWSLambdaVPCAccessExecutionRole.
 */
export function grantVpcAccess(roles: Record<BrokerFunction, iam.Role>): void {
  for (const r of new Set(Object.values(roles))) {
    r.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaENIManagementAccess'));
    acknowledge(
      r,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaENIManagementAccess]',
      'AWS-managed policy made for Lambda functions in a VPC: only the EC2 network-interface actions Lambda needs to attach the function to its subnets.',
    );
  }
}
