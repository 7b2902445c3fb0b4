/**
 * The API handlers' dependencies on the bed's DynamoDB Local, built by depsFromEnv as in Lambda
 * (tables and admins from the environment) with a fresh local key box in place of KMS; the tables
 * are created first. For tests that drive handleHttp directly.
 */
import { randomBytes } from 'node:crypto';
import type { EngineDeps } from '../../lib/engine/deps.js';
import { depsFromEnv } from '../../lib/lambda/runtime.js';
import { LocalSecretBox } from '../../lib/local/secret-box.js';
import { createTables } from '../../lib/local/tables.js';
import { TABLE_ENV, type TableKey, type TableNames } from '../../lib/tables.js';
import { dynamoClient, loadBed } from './bed.js';

export async function bedHandlerDeps(names: TableNames, adminPrincipals: string, env: NodeJS.ProcessEnv = {}): Promise<EngineDeps> {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  await createTables(dynamoClient(), names);
  const handlerEnv = {
    ...process.env,
    ...Object.fromEntries((Object.keys(TABLE_ENV) as TableKey[]).map((k) => [TABLE_ENV[k], names[k]])),
    KUBELEASE_DYNAMODB_ENDPOINT: loadBed().dynamodb.endpoint,
    KUBELEASE_ADMIN_PRINCIPALS: adminPrincipals,
    ...env,
  };
  return depsFromEnv(handlerEnv, undefined, { secretBox: new LocalSecretBox(randomBytes(32)) });
}
