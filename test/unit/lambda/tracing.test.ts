/**
 * Tracing: off by default (no tracer loaded, nothing wrapped); on, every AWS SDK client and every
 * Kubernetes call gets an X-Ray subsegment. Subsegments are the X-Ray SDK's own (real segments,
 * no fake of X-Ray); the cluster behind the decorator is a fake of our KubeCluster port.
 */
import AWSXRay from 'aws-xray-sdk-core';
import { ClusterFactory } from '../../../lib/adapters/kubernetes/factory.js';
import type { PlanObject } from '../../../lib/domain/plan.js';
import { depsFromEnv } from '../../../lib/lambda/runtime.js';
import { TracedKubeFactory, tracedCluster, type SubsegmentCapture } from '../../../lib/lambda/traced-kube.js';
import { loadTracing, tracing } from '../../../lib/lambda/tracing.js';
import type { KubeCluster } from '../../../lib/ports.js';

const ENV = {
  KUBELEASE_CONFIG_TABLE: 'c',
  KUBELEASE_ROLES_TABLE: 'r',
  KUBELEASE_LEASES_TABLE: 'l',
  KUBELEASE_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111111111111:key/k',
  AWS_REGION: 'eu-west-1',
};

/** A cluster whose create succeeds and whose delete fails, recording the calls it got. */
function fakeCluster(calls: string[]): KubeCluster {
  const no = () => Promise.reject(new Error('not used'));
  return {
    create: async (o) => {
      calls.push(`create ${o.kind}`);
      return { uid: 'u-1' };
    },
    delete: async () => {
      calls.push('delete');
      throw new Error('apiserver unreachable');
    },
    requestToken: no,
    getNamespaceLabels: no,
    serviceAccountExists: no,
    roleExists: no,
    listManaged: no,
    canI: no,
  };
}

const SA: PlanObject = { kind: 'ServiceAccount', namespace: 'apps', name: 'kl-x', labels: {}, annotations: {} } as unknown as PlanObject;

interface SeenSubsegment {
  name: string;
  annotations?: Record<string, unknown>;
  in_progress?: boolean;
  fault?: boolean;
  error?: boolean;
}

/** Real X-Ray subsegments under a root segment, kept for inspection (a closed one leaves its parent's list when streamed). */
function xray(): { capture: SubsegmentCapture; seen: SeenSubsegment[] } {
  // manual mode: the parent is passed explicitly (in Lambda, the tracer middleware puts it in context)
  AWSXRay.enableManualMode();
  const root = new AWSXRay.Segment('kubelease-test');
  const seen: SeenSubsegment[] = [];
  const capture: SubsegmentCapture = {
    captureAsyncFunc: (name, fn) =>
      AWSXRay.captureAsyncFunc(
        name,
        (sub) => {
          if (sub) seen.push(sub as unknown as SeenSubsegment);
          return fn(sub) as Promise<unknown>;
        },
        root,
      ),
  };
  return { capture, seen };
}

describe('Kubernetes subsegments (TracedKubeFactory / tracedCluster)', () => {
  test('one closed subsegment per call, annotated with mount, kind and namespace; failures flagged and rethrown', async () => {
    const { capture, seen } = xray();
    const calls: string[] = [];
    const cluster = tracedCluster(fakeCluster(calls), 'prod-eu', capture);

    await expect(cluster.create(SA)).resolves.toEqual({ uid: 'u-1' });
    await expect(cluster.delete({ kind: 'ServiceAccount', namespace: 'apps', name: 'kl-x' }, { leaseHash: 'h' })).rejects.toThrow('apiserver unreachable');

    expect(calls).toEqual(['create ServiceAccount', 'delete']);
    const subs = seen;
    expect(subs.map((s) => s.name)).toEqual(['kubernetes.create', 'kubernetes.delete']);
    expect(subs[0]?.annotations).toEqual({ mount: 'prod-eu', kind: 'ServiceAccount', namespace: 'apps' });
    expect(subs[1]?.annotations).toEqual({ mount: 'prod-eu', kind: 'ServiceAccount', namespace: 'apps', guarded: true });
    for (const s of subs) expect(s.in_progress).toBeFalsy();
    expect(subs[0]?.fault || subs[0]?.error).toBeFalsy();
    expect(subs[1]?.fault).toBe(true);
  });

  test('the factory wraps whatever cluster the inner factory returns', async () => {
    const calls: string[] = [];
    const { capture, seen } = xray();
    const factory = new TracedKubeFactory({ forCluster: async () => fakeCluster(calls) }, capture);
    const cluster = await factory.forCluster({ mount: 'm' } as never);
    await cluster.create(SA);
    expect(seen.map((s) => [s.name, s.annotations])).toEqual([['kubernetes.create', { mount: 'm', kind: 'ServiceAccount', namespace: 'apps' }]]);
  });
});

describe('tracing switch (POWERTOOLS_TRACE_ENABLED, set by the construct)', () => {
  const xrayMiddleware = (client: { middlewareStack: { identify(): string[] } }) => client.middlewareStack.identify().filter((m) => m.includes('XRaySDKInstrumentation'));
  // private fields of the stores, read to see which clients they got
  const clientsOf = (deps: ReturnType<typeof depsFromEnv>) => {
    const configs = deps.configs as unknown as { client: { middlewareStack: { identify(): string[] } }; box: { client: { middlewareStack: { identify(): string[] } } } };
    return { dynamodb: configs.client, kms: configs.box.client };
  };

  test('off (the default): no tracer in this container, plain clients, plain cluster factory', async () => {
    expect(tracing).toBeUndefined();
    expect(await loadTracing({})).toBeUndefined();
    expect(await loadTracing({ POWERTOOLS_TRACE_ENABLED: 'false' })).toBeUndefined();
    const deps = depsFromEnv(ENV);
    expect(deps.kube).toBeInstanceOf(ClusterFactory);
    expect(xrayMiddleware(clientsOf(deps).dynamodb)).toEqual([]);
  });

  test('on: DynamoDB and KMS clients captured, Kubernetes calls decorated', async () => {
    const saved = process.env.AWS_EXECUTION_ENV;
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x'; // the tracer only enables itself inside Lambda
    try {
      const on = await loadTracing({ POWERTOOLS_TRACE_ENABLED: 'true', POWERTOOLS_SERVICE_NAME: 'kubelease' });
      expect(on?.tracer.isTracingEnabled()).toBe(true);
      const deps = depsFromEnv(ENV, on?.tracer);
      expect(deps.kube).toBeInstanceOf(TracedKubeFactory);
      expect(xrayMiddleware(clientsOf(deps).dynamodb)).toHaveLength(1);
      expect(xrayMiddleware(clientsOf(deps).kms)).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.AWS_EXECUTION_ENV;
      else process.env.AWS_EXECUTION_ENV = saved;
    }
  });
});
