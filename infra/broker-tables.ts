/**
 * The broker's data: the KMS key that seals service_account_jwt, and the config / roles /
 * leases tables (shapes from lib/tables.ts).
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { tables, type KeyAttr, type TableDef, type TableKey } from '../lib/tables.js';

export type BrokerTables = Record<TableKey, dynamodb.TableV2>;

/** How long data outlives the stack; `retain` also turns on deletion protection. */
export interface DataRetention {
  retain: boolean;
  removalPolicy: RemovalPolicy;
}

/**
 * What the account (that is: IAM principals the account allows) may do with the key: manage it,
 * never use it. Use is granted in the key policy to the execution roles only (allowKeyUse in
 * broker-iam.ts). kms:CreateGrant is left out on purpose: a grant would be a way around the
 * use statements. PutKeyPolicy stays (KMS refuses a policy that locks the account out).
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

export function createSecretsKey(scope: Construct, { retain, removalPolicy }: DataRetention): kms.Key {
  return new kms.Key(scope, 'SecretsKey', {
    description: 'kubelease: envelope encryption of service_account_jwt in the config table',
    enableKeyRotation: true,
    removalPolicy,
    ...(retain ? {} : { pendingWindow: Duration.days(7) }),
    // replaces CDK's default (account root: kms:*)
    policy: new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'KeyAdministration',
          principals: [new iam.AccountRootPrincipal()],
          actions: KEY_ADMIN_ACTIONS,
          resources: ['*'],
        }),
      ],
    }),
  });
}

export function createTables(scope: Construct, retention: DataRetention): BrokerTables {
  return {
    config: createTable(scope, tables.config, retention),
    roles: createTable(scope, tables.roles, retention),
    leases: createTable(scope, tables.leases, retention),
  };
}

function createTable(scope: Construct, def: TableDef, { retain, removalPolicy }: DataRetention): dynamodb.TableV2 {
  return new dynamodb.TableV2(scope, `${def.id}Table`, {
    partitionKey: attr(def.partitionKey),
    ...(def.sortKey ? { sortKey: attr(def.sortKey) } : {}),
    billing: dynamodb.Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // the one secret (the JWT) is already sealed with the CMK (createSecretsKey); the rest is metadata
    encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    deletionProtection: retain,
    removalPolicy,
    ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
    ...(def.stream ? { dynamoStream: dynamodb.StreamViewType[def.stream] } : {}),
    globalSecondaryIndexes: (def.globalSecondaryIndexes ?? []).map((g) => ({
      indexName: g.name,
      partitionKey: attr(g.partitionKey),
      ...(g.sortKey ? { sortKey: attr(g.sortKey) } : {}),
      projectionType: dynamodb.ProjectionType.ALL,
    })),
  });
}

const attr = (a: KeyAttr): dynamodb.Attribute => ({
  name: a.name,
  type: a.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});
