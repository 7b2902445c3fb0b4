/**
 * The anchor of every Kubernetes figure: the apiserver's REST API called directly, as the
 * broker identity, over one kept-alive node:https agent, JSON in and out — no client library,
 * no checks, no retries. What kubelease does on top of these calls is what the bench measures.
 */
import https from 'node:https';
import type { PlanObject } from '../../../lib/domain/plan.js';

export interface RawKube {
  request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  close(): void;
}

export class RawKubeError extends Error {
  constructor(
    readonly status: number,
    text: string,
  ) {
    super(`apiserver answered ${status}: ${text.slice(0, 300)}`);
  }
}

export function rawKube(server: string, caPem: string, token: string, maxSockets = 64): RawKube {
  const url = new URL(server);
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca: caPem, timeout: 3000 });
  return {
    request: <T>(method: string, path: string, body?: unknown) =>
      new Promise<T>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method,
            path,
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json',
              ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if ((res.statusCode ?? 0) >= 300) reject(new RawKubeError(res.statusCode ?? 0, text));
              else resolve((text ? JSON.parse(text) : {}) as T);
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      }),
    close: () => agent.destroy(),
  };
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/** The collection path of an object (POST) and its own path (GET/DELETE). */
export function objectPath(o: { kind: PlanObject['kind']; namespace?: string; name: string }, own = false): string {
  const ns = o.namespace ?? '';
  const base: Record<PlanObject['kind'], string> = {
    Secret: `/api/v1/namespaces/${ns}/secrets`,
    ServiceAccount: `/api/v1/namespaces/${ns}/serviceaccounts`,
    Role: `${RBAC}/namespaces/${ns}/roles`,
    ClusterRole: `${RBAC}/clusterroles`,
    RoleBinding: `${RBAC}/namespaces/${ns}/rolebindings`,
    ClusterRoleBinding: `${RBAC}/clusterrolebindings`,
  };
  return own ? `${base[o.kind]}/${o.name}` : base[o.kind];
}

/** The object's body exactly as the broker sends it (labels, annotations, rules, owner, subject). */
export function manifest(o: PlanObject, owner?: { name: string; uid: string }): Record<string, unknown> {
  const metadata = {
    name: o.name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    labels: o.labels,
    annotations: o.annotations,
    ...(owner && o.ownedByServiceAccount ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ServiceAccount', name: owner.name, uid: owner.uid, blockOwnerDeletion: false }] } : {}),
  };
  switch (o.kind) {
    case 'Secret':
      return { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque' };
    case 'ServiceAccount':
      return { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: false };
    case 'Role':
    case 'ClusterRole':
      return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: o.kind, metadata, rules: o.rules ?? [] };
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      return {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: o.kind,
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: o.roleRef?.kind, name: o.roleRef?.name },
        subjects: [{ kind: 'ServiceAccount', name: o.subject?.name, namespace: o.subject?.namespace }],
      };
  }
}

export async function rawCreate(kube: RawKube, o: PlanObject, owner?: { name: string; uid: string }): Promise<string> {
  const created = await kube.request<{ metadata: { uid: string } }>('POST', objectPath(o), manifest(o, owner));
  return created.metadata.uid;
}

export async function rawToken(
  kube: RawKube,
  sa: { namespace: string; name: string },
  expirationSeconds: number,
  boundSecret?: { name: string; uid: string },
): Promise<string> {
  const res = await kube.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${sa.namespace}/serviceaccounts/${sa.name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      audiences: [],
      expirationSeconds,
      ...(boundSecret ? { boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: boundSecret.name, uid: boundSecret.uid } } : {}),
    },
  });
  return res.status.token;
}

/** One DELETE, background propagation; 404 counts as done. */
export async function rawDelete(kube: RawKube, o: { kind: PlanObject['kind']; namespace?: string; name: string }): Promise<void> {
  try {
    await kube.request('DELETE', objectPath(o, true), { propagationPolicy: 'Background' });
  } catch (e) {
    if (!(e instanceof RawKubeError && e.status === 404)) throw e;
  }
}

/**
 * The naive issuance: every object of the plan created one after another (owner first, its uid
 * in the others' ownerReferences), then the TokenRequest (bound to the anchor Secret in mode 1).
 */
export async function naiveIssue(kube: RawKube, plan: { objects: PlanObject[]; token: { serviceAccount: { namespace: string; name: string }; expirationSeconds: number } }): Promise<string> {
  let owner: { name: string; uid: string } | undefined;
  let anchor: { name: string; uid: string } | undefined;
  for (const o of plan.objects) {
    const uid = await rawCreate(kube, o, owner);
    if (o.kind === 'ServiceAccount') owner = { name: o.name, uid };
    if (o.kind === 'Secret') anchor = { name: o.name, uid };
  }
  return rawToken(kube, plan.token.serviceAccount, plan.token.expirationSeconds, anchor);
}
