/**
 * Composition root for the Lambdas (and the local stack, which runs the same handlers):
 * builds the engine's dependencies from environment variables, once per warm container.
 */
import { randomInt } from 'node:crypto';
import { createDocumentClient, type DynamoClientOptions } from '../adapters/dynamodb/client.js';
import { DynamoConfigStore } from '../adapters/dynamodb/config-store.js';
import { DynamoLeaseStore } from '../adapters/dynamodb/lease-store.js';
import { DynamoRoleStore } from '../adapters/dynamodb/role-store.js';
import { tableNamesFromEnv } from '../adapters/dynamodb/tables.js';
import { KmsSecretBox } from '../adapters/kms/kms-box.js';
import { LocalSecretBox } from '../adapters/kms/local-box.js';
import { ClusterFactory, type ClusterFactoryOptions } from '../adapters/kubernetes/factory.js';
import { defaultSettings, type EngineDeps, type EngineSettings } from '../engine/deps.js';
import type { Audit, Ids, SecretBox } from '../ports.js';
import { logger } from './observability.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const randomIds: Ids = {
  random: (n) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''),
};

export const auditLog: Audit = {
  record: (event) => logger.info('audit', { type: 'audit', ...event }),
};

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const seconds = (v: string | undefined, fallback: number) => {
  const n = Number(v);
  return v && Number.isInteger(n) && n > 0 ? n : fallback;
};

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): EngineSettings {
  return {
    ...defaultSettings,
    adminPrincipals: list(env.KUBELEASE_ADMIN_PRINCIPALS),
    pendingGraceSeconds: seconds(env.KUBELEASE_PENDING_GRACE_SECONDS, defaultSettings.pendingGraceSeconds),
    orphanGraceSeconds: seconds(env.KUBELEASE_ORPHAN_GRACE_SECONDS, defaultSettings.orphanGraceSeconds),
  };
}

function secretBoxFromEnv(env: NodeJS.ProcessEnv): SecretBox {
  if (env.KUBELEASE_KMS_KEY_ID) return new KmsSecretBox({ keyId: env.KUBELEASE_KMS_KEY_ID });
  if (env.KUBELEASE_LOCAL_KEY_FILE) return LocalSecretBox.fromFileOrCreate(env.KUBELEASE_LOCAL_KEY_FILE);
  throw new Error('set KUBELEASE_KMS_KEY_ID (AWS) or KUBELEASE_LOCAL_KEY_FILE (local stack)');
}

/** Client settings the environment does not carry (tests: short timeouts in front of a fault proxy). */
export interface DepsOverrides {
  dynamo?: DynamoClientOptions['extra'];
  kube?: ClusterFactoryOptions;
}

export function depsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: DepsOverrides = {}): EngineDeps {
  const client = createDocumentClient({
    ...(env.KUBELEASE_DYNAMODB_ENDPOINT ? { endpoint: env.KUBELEASE_DYNAMODB_ENDPOINT } : {}),
    ...(overrides.dynamo ? { extra: overrides.dynamo } : {}),
  });
  const names = tableNamesFromEnv(env);
  return {
    configs: new DynamoConfigStore({ client, tableName: names.config, box: secretBoxFromEnv(env) }),
    roles: new DynamoRoleStore({ client, tableName: names.roles }),
    leases: new DynamoLeaseStore({ client, tableName: names.leases }),
    kube: new ClusterFactory(overrides.kube),
    clock: { now: () => new Date() },
    ids: randomIds,
    audit: auditLog,
    settings: settingsFromEnv(env),
  };
}

let cached: EngineDeps | undefined;
/** Cached across warm invocations; the local stack replaces it with setDeps(). */
export function deps(): EngineDeps {
  cached ??= depsFromEnv();
  return cached;
}
export function setDeps(next: EngineDeps | undefined): void {
  cached = next;
}
