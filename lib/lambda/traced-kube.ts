/**
 * A KubeCluster decorator that opens one X-Ray subsegment per Kubernetes call
 * (`kubernetes.<method>`), annotated with the mount and what the call touches (kind,
 * namespace; never names of secrets, never tokens). The adapter stays untouched; runtime.ts
 * wraps the factory only when tracing is on.
 */
import type { ClusterConfig } from '../domain/types.js';
import type { KubeClientFactory, KubeCluster } from '../ports.js';

export interface SubsegmentLike {
  addAnnotation(key: string, value: string | number | boolean): void;
  addError(err: Error | string, remote?: boolean): void;
  close(err?: Error | string | null): void;
}

/** The one call of Powertools Tracer's provider (the X-Ray SDK's captureAsyncFunc) this needs. */
export interface SubsegmentCapture {
  captureAsyncFunc(name: string, fn: (subsegment?: SubsegmentLike) => unknown): unknown;
}

type Annotations = Record<string, string | number | boolean | undefined>;

function traced<T>(capture: SubsegmentCapture, method: string, annotations: Annotations, call: () => Promise<T>): Promise<T> {
  return capture.captureAsyncFunc(`kubernetes.${method}`, async (subsegment) => {
    for (const [k, v] of Object.entries(annotations)) if (v !== undefined) subsegment?.addAnnotation(k, v);
    try {
      return await call();
    } catch (err) {
      subsegment?.addError(err instanceof Error ? err : String(err), true);
      throw err;
    } finally {
      subsegment?.close();
    }
  }) as Promise<T>;
}

export function tracedCluster(inner: KubeCluster, mount: string, capture: SubsegmentCapture): KubeCluster {
  const t = <T>(method: string, annotations: Annotations, call: () => Promise<T>) => traced(capture, method, { mount, ...annotations }, call);
  return {
    create: (object, owner) => t('create', { kind: object.kind, namespace: object.namespace }, () => inner.create(object, owner)),
    delete: (ref, guard, seen) => t('delete', { kind: ref.kind, namespace: ref.namespace, guarded: guard !== undefined }, () => inner.delete(ref, guard, seen)),
    requestToken: (spec) => t('requestToken', { namespace: spec.namespace, bound: spec.boundSecret !== undefined }, () => inner.requestToken(spec)),
    getNamespaceLabels: (name) => t('getNamespaceLabels', { namespace: name }, () => inner.getNamespaceLabels(name)),
    serviceAccountExists: (namespace, name) => t('serviceAccountExists', { namespace }, () => inner.serviceAccountExists(namespace, name)),
    roleExists: (kind, name, namespace) => t('roleExists', { kind, namespace }, () => inner.roleExists(kind, name, namespace)),
    listManaged: () => t('listManaged', {}, () => inner.listManaged()),
    canI: (checks) => t('canI', { checks: checks.length }, () => inner.canI(checks)),
  };
}

export class TracedKubeFactory implements KubeClientFactory {
  constructor(
    private readonly inner: KubeClientFactory,
    private readonly capture: SubsegmentCapture,
  ) {}

  async forCluster(config: ClusterConfig): Promise<KubeCluster> {
    return tracedCluster(await this.inner.forCluster(config), config.mount, this.capture);
  }
}
