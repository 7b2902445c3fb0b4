// The tables a reliability file creates are dropped before the next file of the same jest worker
// starts (setup.ts): DynamoDB Local runs one TTL job over every table of the bed, and the broken
// items the corrupt-item suite plants or the leases the soak leaves behind would otherwise stay
// in its way for the rest of `npm test`. Dropping them in the file's own afterAll would race the
// file's later afterAll hooks (jest runs setup files' hooks first), so the list goes through a
// file per worker next to the bed's description.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { DeleteTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { TableNames } from '../../../lib/tables.js';
import { dynamoClient, loadBed } from '../bed.js';

const listFile = () => `${loadBed().dir}/scratch-tables-${process.env.JEST_WORKER_ID ?? '1'}.txt`;

export function dropWhenFileEnds(tables: TableNames): void {
  appendFileSync(listFile(), Object.values(tables).map((t) => `${t}\n`).join(''));
}

/** Drops the tables earlier files of this worker created; returns their names. */
export async function dropEarlierScratchTables(): Promise<string[]> {
  let names: string[];
  try {
    names = [...new Set(readFileSync(listFile(), 'utf8').split('\n').filter(Boolean))];
  } catch {
    return [];
  }
  rmSync(listFile(), { force: true });
  const client = dynamoClient();
  await Promise.all(
    names.map((TableName) =>
      client.send(new DeleteTableCommand({ TableName })).catch((e: unknown) => {
        if (!(e instanceof ResourceNotFoundException)) throw e;
      }),
    ),
  );
  return names;
}
