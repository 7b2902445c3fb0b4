/**
 * The broker's own recovery, run from the test process against a stack's tables: the sweep
 * Lambda's handler with the clock moved ahead (past the pending grace of 900 s and the orphan
 * grace of 300 s, short of a 1 h token), as the scheduled sweep would run it later.
 */
import path from 'node:path';
import { localTableNames } from '../../../lib/local/tables.js';
import type { EngineDeps } from '../../../lib/engine/deps.js';
import type { SweepReport } from '../../../lib/engine/sweep.js';
import { depsFromEnv, setDeps } from '../../../lib/lambda/runtime.js';
import { handleSweep } from '../../../lib/lambda/sweep-handler.js';
import { loadBed } from '../bed.js';
import { LocalSecretBox } from '../../../lib/local/secret-box.js';

/** Engine deps over a local stack's tables (its KUBELEASE_HOME holds the envelope key). */
export function stackDeps(home: string, tablePrefix: string): EngineDeps {
  const bed = loadBed();
  // as the local stack does: the broker's session of its execution role (DynamoDB Local takes any
  // key; the EKS mount signs with it) and the bed's STS
  Object.assign(process.env, {
    AWS_REGION: bed.dynamodb.region,
    AWS_ACCESS_KEY_ID: bed.eks.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: bed.eks.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: bed.eks.credentials.sessionToken,
    AWS_ENDPOINT_URL_STS: bed.eks.stsEndpoint,
  });
  const tables = localTableNames(tablePrefix);
  return depsFromEnv(
    {
      KUBELEASE_CONFIG_TABLE: tables.config,
      KUBELEASE_ROLES_TABLE: tables.roles,
      KUBELEASE_LEASES_TABLE: tables.leases,
      KUBELEASE_DYNAMODB_ENDPOINT: bed.dynamodb.endpoint,
    },
    undefined,
    { secretBox: LocalSecretBox.fromFileOrCreate(path.join(home, 'data', 'local-envelope.key')) },
  );
}

export async function sweepAhead(deps: EngineDeps, shiftSeconds = 1000): Promise<SweepReport> {
  setDeps({ ...deps, clock: { now: () => new Date(Date.now() + shiftSeconds * 1000) } });
  try {
    return await handleSweep({ getRemainingTimeInMillis: () => 120_000 });
  } finally {
    setDeps(undefined);
  }
}
