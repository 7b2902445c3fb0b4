/**
 * The DynamoDB Local that the bed and `npm start` run (lib/local/testbed/java/LoopbackDynamoDBLocal.java)
 * indexes its stream-record table by stream. Without that index every write to a table with a
 * stream reads every stream record kept before its stream's first one, so a table created late
 * pays for all the records before it (docs/local.md). Checked on the database file of a DynamoDB Local started on disk, as `npm start`
 * runs it: the query each such write makes must be answered from the index.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type * as NodeSqlite from 'node:sqlite';
import { DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createTables } from '../../lib/local/tables.js';
import { makeBedDir } from '../../lib/local/testbed/bed-dir.js';
import { dynamoDbLocalJar, startDynamoDbLocal, type DynamoDbLocal } from '../../lib/local/testbed/dynamodb-local.js';
import { freePorts } from '../../lib/local/testbed/ports.js';
import { Supervisor } from '../../lib/local/testbed/processes.js';

// through getBuiltinModule: jest's resolver does not know the scheme-only `node:sqlite`
const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof NodeSqlite;

const LEASES = 'launcher-leases';
let dir: string;
let sup: Supervisor;
let ddb: DynamoDbLocal;

beforeAll(async () => {
  const bedDir = await makeBedDir(false, undefined);
  dir = bedDir.dir;
  sup = new Supervisor(dir, bedDir.logDir, true);
  const [port] = (await freePorts(1)) as [number];
  ddb = startDynamoDbLocal(sup, dynamoDbLocalJar(), port, dir, true);
  await ddb.ready;
  await createTables(ddb.client, { config: '-', roles: '-', leases: LEASES }, { tables: ['leases'] });
}, 120_000);

afterAll(async () => {
  ddb?.client.destroy();
  await sup?.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

test('a write to a table with a stream finds where its stream starts through an index, not a scan of every stream record', async () => {
  await ddb.client.send(new PutItemCommand({ TableName: LEASES, Item: { lease_id: { S: 'l-1' } } }));
  const streamArn = (await ddb.client.send(new DescribeTableCommand({ TableName: LEASES }))).Table?.LatestStreamArn;
  expect(streamArn).toMatch(/^arn:aws:dynamodb:.*:table\/launcher-leases\/stream\//);

  const db = new DatabaseSync(path.join(dir, 'dynamodb', 'shared-local-instance.db'), { readOnly: true });
  try {
    // the write's stream record is where DynamoDB Local keeps them, under the table's stream
    const records = db.prepare('SELECT COUNT(*) AS n FROM us WHERE StreamID = ?').get(streamArn!) as { n: number };
    expect(records.n).toBe(1);
    // the lookup DynamoDB Local makes on every such write (its getStreamDescription)
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT MIN(SequenceNumber) FROM us WHERE StreamID = ?').all(streamArn!) as { detail: string }[];
    expect(plan.map((row) => row.detail)).toEqual(['SEARCH us USING COVERING INDEX kubelease_us_stream_sequence (StreamID=?)']);
  } finally {
    db.close();
  }
}, 60_000);
