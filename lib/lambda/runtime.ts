/**
 * Composition root for the Lambdas (and the local stack, which runs the same handlers):
 * builds the engine's dependencies from environment variables, once per warm container.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { createDocumentClient, type DynamoClientOptions } from '../adapters/dynamodb/client.js';
import { DynamoConfigStore } from '../adapters/dynamodb/config-store.js';
import { DynamoLeaseStore } from '../adapters/dynamodb/lease-store.js';
import { DynamoRoleStore } from '../adapters/dynamodb/role-store.js';
import { tableNamesFromEnv } from '../tables.js';
import { KmsSecretBox } from '../adapters/kms/kms-box.js';
import { createStsClient, EksTokenSource } from '../adapters/eks/token.js';
import { ClusterFactory, type ClusterFactoryOptions } from '../adapters/kubernetes/factory.js';
import { randomIds } from '../adapters/random-ids.js';
import { DEFAULT_CACHE_SECONDS } from '../adapters/ttl-cache.js';
import { checkAdminPrincipals, isKubeleaseError } from '../domain/index.js';
import { defaultSettings, type EngineDeps, type EngineSettings } from '../engine/deps.js';
import type { Audit, KubeClientFactory, SecretBox } from '../ports.js';
import { logger } from './observability.js';
import { TracedKubeFactory } from './traced-kube.js';
import { tracing } from './tracing.js';

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

/** KUBELEASE_CACHE_SECONDS: how long a warm container serves config and roles from memory; 0 turns the cache off */
function cacheSeconds(v: string | undefined): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n >= 0 ? n : DEFAULT_CACHE_SECONDS;
}

/** Refuses to start (cold start fails) with an admin list that would let anyone in. */
function adminPrincipalsFrom(value: string | undefined): string[] {
  try {
    return checkAdminPrincipals(list(value));
  } catch (e) {
    if (!isKubeleaseError(e)) throw e;
    throw new Error(`KUBELEASE_ADMIN_PRINCIPALS: ${e.errors.join('; ')}`);
  }
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): EngineSettings {
  return {
    ...defaultSettings,
    adminPrincipals: adminPrincipalsFrom(env.KUBELEASE_ADMIN_PRINCIPALS),
    pendingGraceSeconds: seconds(env.KUBELEASE_PENDING_GRACE_SECONDS, defaultSettings.pendingGraceSeconds),
    orphanGraceSeconds: seconds(env.KUBELEASE_ORPHAN_GRACE_SECONDS, defaultSettings.orphanGraceSeconds),
  };
}

/** The slice of Powertools Tracer that instruments AWS SDK v3 clients (X-Ray subsegment per call). */
export interface ClientTracer {
  captureAWSv3Client<T>(client: T): T;
  provider: ConstructorParameters<typeof TracedKubeFactory>[1];
}

/** What only the local stack and tests have, handed in by them: nothing local is deployed. */
export interface LocalParts {
  /** used instead of KMS (KUBELEASE_KMS_KEY_ID) */
  secretBox?: SecretBox;
  /** client settings the environment does not carry (tests: short timeouts in front of a fault proxy) */
  dynamo?: DynamoClientOptions['extra'];
  kube?: ClusterFactoryOptions;
}

function secretBoxFromEnv(env: NodeJS.ProcessEnv, tracer: ClientTracer | undefined, local: LocalParts): SecretBox {
  if (local.secretBox) return local.secretBox;
  if (env.KUBELEASE_KMS_KEY_ID) {
    return new KmsSecretBox({ keyId: env.KUBELEASE_KMS_KEY_ID, ...(tracer ? { client: tracer.captureAWSv3Client(new KMSClient({})) } : {}) });
  }
  throw new Error('set KUBELEASE_KMS_KEY_ID (the KMS key that seals cluster credentials)');
}

/** Kubernetes clients; with a tracer, STS (AssumeRole for EKS role_arn) and every cluster call are traced. */
function kubeFactory(tracer: ClientTracer | undefined, options: ClusterFactoryOptions = {}): KubeClientFactory {
  if (!tracer) return new ClusterFactory(options);
  const factory = new ClusterFactory({
    ...options,
    eksTokenSource: (o) => new EksTokenSource({ ...o, stsClient: (region, credentials) => tracer.captureAWSv3Client(createStsClient(region, credentials)) }),
  });
  return new TracedKubeFactory(factory, tracer.provider);
}

/**
 * `tracer` defaults to this container's (lib/lambda/tracing.ts): none unless the construct turned
 * tracing on. `local` comes from the local stack and tests only.
 */
export function depsFromEnv(env: NodeJS.ProcessEnv = process.env, tracer: ClientTracer | undefined = tracing?.tracer, local: LocalParts = {}): EngineDeps {
  const client = createDocumentClient({
    ...(env.KUBELEASE_DYNAMODB_ENDPOINT ? { endpoint: env.KUBELEASE_DYNAMODB_ENDPOINT } : {}),
    ...(local.dynamo ? { extra: local.dynamo } : {}),
  });
  // the document client shares the base client's middleware stack: one capture covers both
  tracer?.captureAWSv3Client(client);
  const names = tableNamesFromEnv(env);
  const cacheMs = cacheSeconds(env.KUBELEASE_CACHE_SECONDS) * 1000;
  return {
    configs: new DynamoConfigStore({ client, tableName: names.config, box: secretBoxFromEnv(env, tracer, local), cacheMs }),
    roles: new DynamoRoleStore({ client, tableName: names.roles, cacheMs }),
    leases: new DynamoLeaseStore({ client, tableName: names.leases }),
    kube: kubeFactory(tracer, local.kube),
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
