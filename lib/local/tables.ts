/**
 * Tables for DynamoDB Local (tests and the local stack; CDK creates the deployed ones from the
 * same definitions in lib/tables.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  DynamoDBClient} from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tables, type KeyAttr, type TableDef, type TableKey, type TableNames } from '../tables.js';

export const localTableNames = (prefix = 'kubelease'): TableNames => ({
  config: `${prefix}-config`,
  roles: `${prefix}-roles`,
  leases: `${prefix}-leases`,
});

const keySchema = (pk: KeyAttr, sk?: KeyAttr): KeySchemaElement[] => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
];

/** The CreateTable input for one definition. */
function createTableInput(def: TableDef, tableName: string, withStream = true): CreateTableCommandInput {
  const attrs = new Map<string, KeyAttr['type']>();
  const add = (a?: KeyAttr) => {
    if (a) attrs.set(a.name, a.type);
  };
  add(def.partitionKey);
  add(def.sortKey);
  for (const g of def.globalSecondaryIndexes ?? []) {
    add(g.partitionKey);
    add(g.sortKey);
  }
  const AttributeDefinitions: AttributeDefinition[] = [...attrs].map(([AttributeName, AttributeType]) => ({
    AttributeName,
    AttributeType,
  }));
  const gsis = def.globalSecondaryIndexes ?? [];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions,
    KeySchema: keySchema(def.partitionKey, def.sortKey),
    ...(gsis.length > 0
      ? {
          GlobalSecondaryIndexes: gsis.map((g) => ({
            IndexName: g.name,
            KeySchema: keySchema(g.partitionKey, g.sortKey),
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
    ...(def.stream && withStream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: def.stream } } : {}),
  };
}


/** Low-level commands through either client (a document client passes them through unchanged). */
const lowLevel = (client: DynamoDBClient | DynamoDBDocumentClient): DynamoDBClient => client as unknown as DynamoDBClient;

async function waitActive(client: DynamoDBClient, name: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      const gsisActive = (Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
      if (Table?.TableStatus === 'ACTIVE' && gsisActive) return;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
    if (Date.now() > deadline) throw new Error(`table ${name} did not become ACTIVE within ${timeoutMs} ms`);
    await sleep(200);
  }
}

export interface CreateTablesOptions {
  /** which tables to create; default all three */
  tables?: TableKey[];
  /** per table, default 60 s */
  timeoutMs?: number;
  /**
   * false: no stream even where tables.ts has one (benchmarks only: DynamoDB Local's CPU per write
   * on a table with a stream grows with every stream record the process has kept); default true
   */
  streams?: boolean;
}

/**
 * Creates the tables from `tables.ts` that do not exist yet (PAY_PER_REQUEST, GSIs projecting
 * ALL, stream spec), waits until ACTIVE, then enables TTL. Idempotent.
 */
export async function createTables(
  anyClient: DynamoDBClient | DynamoDBDocumentClient,
  names: TableNames,
  options: CreateTablesOptions = {},
): Promise<void> {
  const client = lowLevel(anyClient);
  const keys = options.tables ?? (Object.keys(tables) as TableKey[]);
  const timeoutMs = options.timeoutMs ?? 60_000;
  await Promise.all(
    keys.map(async (key) => {
      const def: TableDef = tables[key];
      const name = names[key];
      let exists = true;
      try {
        await client.send(new DescribeTableCommand({ TableName: name }));
      } catch (e) {
        if (!(e instanceof ResourceNotFoundException)) throw e;
        exists = false;
      }
      if (!exists) {
        try {
          await client.send(new CreateTableCommand(createTableInput(def, name, options.streams ?? true)));
        } catch (e) {
          // created concurrently by another process: fine
          if (!(e instanceof ResourceInUseException)) throw e;
        }
      }
      await waitActive(client, name, timeoutMs);
      if (def.ttlAttribute) {
        const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
        const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
        if (status !== 'ENABLED' && status !== 'ENABLING') {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: name,
              TimeToLiveSpecification: { Enabled: true, AttributeName: def.ttlAttribute },
            }),
          );
        }
      }
    }),
  );
}
