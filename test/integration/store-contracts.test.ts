/**
 * The store ports' contracts (test/support/store-contracts.ts) against the DynamoDB adapters on
 * DynamoDB Local: the same tests the in-memory fakes pass in the unit project. One set of tables;
 * each test gets its own mount names.
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../lib/adapters/dynamodb/client.js';
import { DynamoConfigStore } from '../../lib/adapters/dynamodb/config-store.js';
import { DynamoLeaseStore } from '../../lib/adapters/dynamodb/lease-store.js';
import { DynamoRoleStore } from '../../lib/adapters/dynamodb/role-store.js';
import { createTables, localTableNames } from '../../lib/local/tables.js';
import { LocalSecretBox } from '../../lib/local/secret-box.js';
import { loadBed } from '../support/bed.js';
import { configStoreContract, leaseStoreContract, roleStoreContract } from '../support/store-contracts.js';

const SLOW = 60_000;
const bed = loadBed();
const clientOptions = { endpoint: bed.dynamodb.endpoint, region: bed.dynamodb.region, credentials: bed.dynamodb.credentials };
const names = localTableNames(`kl-contract-${randomBytes(4).toString('hex')}`);
const raw = new DynamoDBClient(clientOptions);
const doc = createDocumentClient(clientOptions);
const box = new LocalSecretBox(randomBytes(32));

beforeAll(() => createTables(raw, names), SLOW);
afterAll(async () => {
  for (const t of Object.values(names)) await raw.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
  raw.destroy();
  doc.destroy();
}, SLOW);

/** Mount names of one test: `<name>-<suffix>`, so tests sharing the tables never meet. */
function fresh<S>(store: S) {
  const suffix = randomBytes(3).toString('hex');
  return { store, mount: (name: string) => `${name}-${suffix}`, owns: (mount: string) => mount.endsWith(`-${suffix}`) };
}

// a small page size, so the list contracts also cross pages
leaseStoreContract('DynamoDB', () => fresh(new DynamoLeaseStore({ client: doc, tableName: names.leases, pageSize: 2 })), SLOW);
configStoreContract('DynamoDB', () => fresh(new DynamoConfigStore({ client: doc, tableName: names.config, box })), SLOW);
roleStoreContract('DynamoDB', () => fresh(new DynamoRoleStore({ client: doc, tableName: names.roles, pageSize: 1 })), SLOW);
