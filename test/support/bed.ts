/**
 * Access to the real test bed started by scripts/test.ts (see lib/local/testbed.ts).
 * Tests act as the broker (brokerKubeConfig) or as minted tokens; the admin identity is for
 * arranging fixtures that the broker must not be able to create itself.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestBedInfo } from '../../lib/local/testbed/index.js';

export type { TestBedInfo };

let cached: TestBedInfo | undefined;

export function loadBed(): TestBedInfo {
  if (cached) return cached;
  const file = process.env.KUBELEASE_BED;
  if (!file) throw new Error('integration tests need the test bed: run them with npm test');
  cached = JSON.parse(readFileSync(file, 'utf8')) as TestBedInfo;
  return cached;
}

function kubeConfig(user: k8s.User): k8s.KubeConfig {
  const bed = loadBed();
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'kubelease-bed', server: bed.apiserver.url, caData: Buffer.from(bed.apiserver.caPem).toString('base64'), skipTLSVerify: false }],
    users: [user],
    contexts: [{ name: user.name, cluster: 'kubelease-bed', user: user.name }],
    currentContext: user.name,
  });
  return kc;
}

/** cluster-admin (system:masters client certificate): fixtures only */
export function adminKubeConfig(): k8s.KubeConfig {
  const { admin } = loadBed();
  return kubeConfig({
    name: 'kubelease-harness',
    certData: Buffer.from(admin.clientCertPem).toString('base64'),
    keyData: Buffer.from(admin.clientKeyPem).toString('base64'),
  });
}

/** the broker's own identity: ServiceAccount kubelease-system/kubelease-broker */
export function brokerKubeConfig(): k8s.KubeConfig {
  return tokenKubeConfig(loadBed().broker.token, 'kubelease-broker');
}

/** any bearer token, e.g. one the broker issued */
export function tokenKubeConfig(token: string, name = 'token'): k8s.KubeConfig {
  return kubeConfig({ name, token });
}

/** a short random suffix valid in DNS-1123 names */
export function uniqueSuffix(bytes = 4): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * Creates `<prefix>-<random>` as admin and returns its name once it is usable like a namespace of
 * a real cluster: its `default` ServiceAccount exists (the controller-manager adds it ~0.1 s later).
 */
export async function newNamespace(prefix = 'kl-test', labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${uniqueSuffix()}`.slice(0, 63);
  const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels: { 'kubelease.io/test': 'true', ...labels } } } });
  await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: name }), { timeoutMs: 30_000, intervalMs: 50 });
  return name;
}

export function dynamoClient(): DynamoDBClient {
  const { dynamodb } = loadBed();
  return new DynamoDBClient({ endpoint: dynamodb.endpoint, region: dynamodb.region, credentials: dynamodb.credentials });
}

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `fn` until it returns without throwing (its value is returned), or rethrows its last
 * error after `timeoutMs`. Use for caches with real latencies (RBAC, token auth, TTL deletes).
 */
export async function eventually<T>(fn: () => Promise<T> | T, { timeoutMs = 30_000, intervalMs = 250 }: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() + intervalMs > deadline) {
        const err = e instanceof Error ? e : new Error(String(e));
        err.message = `still failing after ${timeoutMs} ms: ${err.message}`;
        throw err;
      }
    }
    await sleep(intervalMs);
  }
}

/** HTTP status of a client-node ApiException (or undefined for other errors) */
export function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Decodes a JWT payload without verifying it (the apiserver does the verifying). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
