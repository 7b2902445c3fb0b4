/**
 * KubeCluster on @kubernetes/client-node 2.x, acting as the broker identity of one target cluster.
 *
 * Only client-node's generated request factories and response processors of the three API groups
 * the broker calls are loaded (deep imports): not KubeConfig, undici or the other API groups,
 * which the Lambdas would otherwise pay for in bundle size and cold start (issue 13). Requests go
 * through HttpsTransport (node:https):
 * - one keep-alive connection pool per cluster, kept across warm Lambda invocations;
 * - every call carries `AbortSignal.timeout(timeoutMs)` (default 10 s) covering connect, headers
 *   and body. Expired → 'unavailable';
 * - with a `tokenSource` (EKS), the bearer token is asked for on every request; the source caches
 *   and refreshes it before the 15-minute EKS token lifetime runs out. A 401 answer invalidates
 *   the token it was sent with and the call is made once more with a fresh one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import type { KubeConfig, V1ObjectMeta, V1OwnerReference, V1PolicyRule } from '@kubernetes/client-node';
import { AuthorizationV1ApiRequestFactory, AuthorizationV1ApiResponseProcessor } from '@kubernetes/client-node/dist/gen/apis/AuthorizationV1Api.js';
import { CoreV1ApiRequestFactory, CoreV1ApiResponseProcessor } from '@kubernetes/client-node/dist/gen/apis/CoreV1Api.js';
import { RbacAuthorizationV1ApiRequestFactory, RbacAuthorizationV1ApiResponseProcessor } from '@kubernetes/client-node/dist/gen/apis/RbacAuthorizationV1Api.js';
import type { Configuration } from '@kubernetes/client-node/dist/gen/configuration.js';
import type { HttpInfo, RequestContext, ResponseContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
import type { AccessCheck, DeleteGuard, IssuedToken, KubeCluster, ManagedListing, ManagedObject, SeenObject } from '../../ports.js';
import { cloneRule, type ObjectRef, type PlanKind, type PlanObject, type PolicyRule } from '../../domain/plan.js';
import { KubeleaseError } from '../../domain/errors.js';
import { LABEL_INSTALLATION, LABEL_LEASE, MANAGED_LABEL_SELECTOR } from '../../domain/labels.js';
import { withRetries, type RetryPolicy } from '../retry.js';
import { hasStatus, kubeRetryDecision, mapKubeError, type KubeOperation } from './errors.js';
import type { GENERATED_CALLS } from './generated-calls.js';
import { HttpsTransport } from './transport.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

// the generated factories and processors narrowed to the calls the bundles keep (generated-calls.ts)
type CoreCalls = (typeof GENERATED_CALLS.CoreV1Api)[number];
type RbacCalls = (typeof GENERATED_CALLS.RbacAuthorizationV1Api)[number];
type AuthzCalls = (typeof GENERATED_CALLS.AuthorizationV1Api)[number];

/** A bearer token that changes over time (EKS): cached by the source, dropped after a 401. */
export interface BearerTokenSource {
  token(): Promise<string>;
  /** the cluster answered 401 to `rejected` */
  invalidate(rejected: string): void;
}

export interface ClusterOptions {
  /** per-request timeout, default 10 000 ms */
  timeoutMs?: number;
  /** parallel SelfSubjectAccessReviews in canI, default 8 */
  concurrency?: number;
  /** bearer token source used instead of the KubeConfig user's token (EKS) */
  tokenSource?: BearerTokenSource;
  /** list page size in listManaged, default 500 */
  pageSize?: number;
  /** called for non-fatal problems (e.g. listManaged skipping secrets it may not list) */
  onWarning?: (message: string) => void;
  /** retries of failed calls (see kubeRetryDecision); default 3 attempts, 100 ms base, 2 s cap */
  retry?: RetryPolicy;
}

export interface Connection extends Omit<ClusterOptions, 'tokenSource'> {
  /** https://host[:port] */
  server: string;
  /** PEM bundle (or base64 of it); empty → the system trust store */
  caPem?: string;
  token?: string;
  tokenSource?: BearerTokenSource;
}

/** What the adapter reads of a kubeconfig (tests and local tools): its current cluster and bearer token. */
export type KubeConfigView = Pick<KubeConfig, 'getCurrentCluster' | 'getCurrentUser'>;

/** the bearer token one call (and its retry) is made with, so that a 401 names the token it refused */
const callToken = new AsyncLocalStorage<string>();

function connectionOf(kc: KubeConfigView): Omit<Connection, keyof ClusterOptions> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeleaseError('invalid', 'kubeconfig has no current cluster');
  const user = kc.getCurrentUser();
  const caPem = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile, 'utf8') : undefined);
  return { server: cluster.server, ...(caPem ? { caPem } : {}), ...(user?.token ? { token: user.token } : {}) };
}

/** the generated factories need a Configuration; every call goes through HttpsTransport instead of its httpApi */
function configurationFor(server: string): Configuration {
  return {
    baseServer: new ServerConfiguration(server, {}),
    middleware: [],
    authMethods: {},
    httpApi: {
      send: () => {
        throw new Error('kubelease sends kube requests through HttpsTransport');
      },
    },
  };
}

/** Accepts a PEM bundle, or base64 of one (what kubeconfig's certificate-authority-data holds). */
export function normalizePem(ca: string | undefined): string | undefined {
  const t = ca?.trim();
  if (!t) return undefined;
  if (t.includes('-----BEGIN')) return `${t}\n`;
  const decoded = Buffer.from(t, 'base64').toString('utf8');
  if (decoded.includes('-----BEGIN')) return decoded;
  throw new KubeleaseError('invalid', 'kubernetes_ca_cert is neither a PEM certificate nor base64 of one');
}

const toRules = (rules: PolicyRule[] | undefined): V1PolicyRule[] => (rules ?? []).map(cloneRule);

const RESOURCE: Record<PlanKind, string> = {
  Secret: 'secrets',
  ServiceAccount: 'serviceaccounts',
  Role: 'roles',
  ClusterRole: 'clusterroles',
  RoleBinding: 'rolebindings',
  ClusterRoleBinding: 'clusterrolebindings',
};
/** the delete calls' positional parameters between the name (and namespace) and the body: propagationPolicy Background */
const BACKGROUND = [undefined, undefined, undefined, undefined, undefined, 'Background'] as const;
const CLUSTER_SCOPED: ReadonlySet<PlanKind> = new Set(['ClusterRole', 'ClusterRoleBinding']);

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export class ClientNodeCluster implements KubeCluster {
  readonly server: string;
  private readonly core: Pick<CoreV1ApiRequestFactory, CoreCalls>;
  private readonly coreOut: Pick<CoreV1ApiResponseProcessor, `${CoreCalls}WithHttpInfo`> = new CoreV1ApiResponseProcessor();
  private readonly rbac: Pick<RbacAuthorizationV1ApiRequestFactory, RbacCalls>;
  private readonly rbacOut: Pick<RbacAuthorizationV1ApiResponseProcessor, `${RbacCalls}WithHttpInfo`> = new RbacAuthorizationV1ApiResponseProcessor();
  private readonly authz: Pick<AuthorizationV1ApiRequestFactory, AuthzCalls>;
  private readonly authzOut: Pick<AuthorizationV1ApiResponseProcessor, `${AuthzCalls}WithHttpInfo`> = new AuthorizationV1ApiResponseProcessor();
  private readonly transport: HttpsTransport;
  private readonly token: string | undefined;
  private readonly tokenSource: BearerTokenSource | undefined;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly pageSize: number;
  private readonly onWarning: (message: string) => void;
  private readonly retry: RetryPolicy;

  /** `source`: a connection, or a kubeconfig whose current context is the broker identity (bearer token). */
  constructor(source: Connection | KubeConfigView, options: ClusterOptions = {}) {
    const conn: Connection = 'server' in source ? { ...source, ...options } : { ...connectionOf(source), ...options };
    const { server, caPem, token, tokenSource, ...rest } = conn;
    if (!token && !tokenSource) throw new KubeleaseError('invalid', 'a cluster connection needs a token or a token provider');
    this.server = server.replace(/\/+$/, '');
    this.timeoutMs = rest.timeoutMs ?? 10_000;
    this.concurrency = rest.concurrency ?? 8;
    this.pageSize = rest.pageSize ?? 500;
    this.onWarning = rest.onWarning ?? ((m) => console.warn(`[kubelease] ${m}`));
    this.token = token;
    this.tokenSource = tokenSource;
    this.retry = rest.retry ?? {};
    const ca = normalizePem(caPem);
    this.transport = new HttpsTransport({ timeoutMs: this.timeoutMs, ...(ca ? { ca } : {}) });
    const config = configurationFor(this.server);
    this.core = new CoreV1ApiRequestFactory(config);
    this.rbac = new RbacAuthorizationV1ApiRequestFactory(config);
    this.authz = new AuthorizationV1ApiRequestFactory(config);
  }

  static fromConnection(conn: Connection): ClientNodeCluster {
    return new ClientNodeCluster(conn);
  }

  /** Closes the kept-alive connections (tests; Lambda just freezes). */
  async close(): Promise<void> {
    this.transport.close();
  }

  /**
   * One call: a generated factory builds the request, the transport sends it with this call's
   * bearer token, the generated processor parses the answer (ApiException for a non-2xx status).
   */
  private async send<T>(request: Promise<RequestContext>, parse: (res: ResponseContext) => Promise<HttpInfo<T>>): Promise<T> {
    const [ctx, token] = await Promise.all([request, callToken.getStore() ?? this.token ?? (this.tokenSource as BearerTokenSource).token()]);
    return (await parse(await this.transport.send(ctx, token))).data;
  }

  private host(): string {
    try {
      return new URL(this.server).host;
    } catch {
      return this.server;
    }
  }

  /**
   * Runs `fn`; with a token source, a 401 invalidates the token `fn` was sent with and `fn` runs
   * once more with the source's next token. A second 401 is the caller's to see.
   */
  private async withFreshTokenOn401<T>(fn: () => Promise<T>): Promise<T> {
    const source = this.tokenSource;
    if (!source) return fn();
    const used = await source.token();
    try {
      return await callToken.run(used, fn);
    } catch (err) {
      if (!hasStatus(err, 401)) throw err;
      source.invalidate(used);
      return callToken.run(await source.token(), fn);
    }
  }

  /**
   * `fn` with bounded, jittered retries where a new attempt is safe (kubeRetryDecision): every
   * call but the create of an object is idempotent here (deletes carry a uid precondition).
   */
  private attempt<T>(op: KubeOperation, fn: () => Promise<T>): Promise<T> {
    const idempotent = op.verb !== 'create' || op.resource === 'serviceaccounts/token' || op.resource === 'selfsubjectaccessreviews';
    return this.withFreshTokenOn401(() => withRetries(fn, (err) => kubeRetryDecision(err, idempotent), this.retry));
  }

  private async call<T>(op: KubeOperation, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.attempt(op, fn);
    } catch (err) {
      throw mapKubeError(err, { ...op, host: this.host(), timeoutMs: this.timeoutMs });
    }
  }

  /** 404 → undefined; everything else mapped. */
  private async read<T>(op: KubeOperation, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.attempt(op, fn);
    } catch (err) {
      if (hasStatus(err, 404)) return undefined;
      throw mapKubeError(err, { ...op, host: this.host(), timeoutMs: this.timeoutMs });
    }
  }

  private static namespaceOf(ref: ObjectRef): string {
    if (CLUSTER_SCOPED.has(ref.kind)) return '';
    if (!ref.namespace) throw new KubeleaseError('invalid', `${ref.kind} "${ref.name}" needs a namespace`);
    return ref.namespace;
  }

  async create(obj: PlanObject, owner?: { name: string; uid: string }): Promise<{ uid: string }> {
    const namespace = ClientNodeCluster.namespaceOf(obj);
    const ownerReferences: V1OwnerReference[] | undefined =
      obj.ownedByServiceAccount &&
      owner &&
      namespace !== '' &&
      // an ownerReference resolves in the dependent's namespace: never point across namespaces
      (!obj.subject || obj.subject.namespace === namespace)
        ? [{ apiVersion: 'v1', kind: 'ServiceAccount', name: owner.name, uid: owner.uid, blockOwnerDeletion: false }]
        : undefined;
    const metadata: V1ObjectMeta = {
      name: obj.name,
      ...(namespace ? { namespace } : {}),
      labels: { ...obj.labels },
      annotations: { ...obj.annotations },
      ...(ownerReferences ? { ownerReferences } : {}),
    };
    const op: KubeOperation = { verb: 'create', resource: RESOURCE[obj.kind], namespace: namespace || undefined, name: obj.name };
    const bindingParts = () => {
      if (!obj.roleRef || !obj.subject) {
        throw new KubeleaseError('invalid', `${obj.kind} "${obj.name}" needs roleRef and subject`);
      }
      return {
        roleRef: { apiGroup: RBAC_GROUP, kind: obj.roleRef.kind, name: obj.roleRef.name },
        subjects: [{ kind: 'ServiceAccount', name: obj.subject.name, namespace: obj.subject.namespace }],
      };
    };
    const created = await this.call(op, async () => {
      switch (obj.kind) {
        case 'Secret':
          return this.send(this.core.createNamespacedSecret(namespace, { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque' }), (r) =>
            this.coreOut.createNamespacedSecretWithHttpInfo(r),
          );
        case 'ServiceAccount':
          return this.send(
            this.core.createNamespacedServiceAccount(namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: false }),
            (r) => this.coreOut.createNamespacedServiceAccountWithHttpInfo(r),
          );
        case 'Role':
          return this.send(this.rbac.createNamespacedRole(namespace, { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata, rules: toRules(obj.rules) }), (r) =>
            this.rbacOut.createNamespacedRoleWithHttpInfo(r),
          );
        case 'ClusterRole':
          return this.send(this.rbac.createClusterRole({ apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata, rules: toRules(obj.rules) }), (r) =>
            this.rbacOut.createClusterRoleWithHttpInfo(r),
          );
        case 'RoleBinding':
          return this.send(this.rbac.createNamespacedRoleBinding(namespace, { apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata, ...bindingParts() }), (r) =>
            this.rbacOut.createNamespacedRoleBindingWithHttpInfo(r),
          );
        case 'ClusterRoleBinding':
          return this.send(this.rbac.createClusterRoleBinding({ apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRoleBinding', metadata, ...bindingParts() }), (r) =>
            this.rbacOut.createClusterRoleBindingWithHttpInfo(r),
          );
      }
    });
    const uid = created.metadata?.uid;
    if (!uid) throw new KubeleaseError('upstream', `the cluster created ${obj.kind} "${obj.name}" but returned no uid`);
    return { uid };
  }

  /**
   * Only an object labeled with the guard's lease (and not with another installation) is
   * deleted, and exactly the one that was read (uid precondition): a name collision never deletes
   * an object kubelease does not own. With `seen` (what a listing saw), that is the object read.
   */
  async delete(ref: ObjectRef, guard: DeleteGuard, seen?: SeenObject): Promise<'deleted' | 'absent'> {
    const namespace = ClientNodeCluster.namespaceOf(ref);
    const current = seen ? { metadata: { uid: seen.uid, labels: seen.labels } } : await this.readObject(ref);
    const labels = current?.metadata?.labels ?? {};
    const uid = current?.metadata?.uid;
    const otherInstallation = guard.installation !== undefined && labels[LABEL_INSTALLATION] !== undefined && labels[LABEL_INSTALLATION] !== guard.installation;
    if (!current || !uid || !guard.leaseHash || labels[LABEL_LEASE] !== guard.leaseHash || otherInstallation) return 'absent';
    const { name } = ref;
    const body = { preconditions: { uid } };
    const op: KubeOperation = { verb: 'delete', resource: RESOURCE[ref.kind], namespace: namespace || undefined, name: ref.name };
    const remove = this.read(op, async () => {
      switch (ref.kind) {
        case 'Secret':
          return this.send(this.core.deleteNamespacedSecret(name, namespace, ...BACKGROUND, body), (r) => this.coreOut.deleteNamespacedSecretWithHttpInfo(r));
        case 'ServiceAccount':
          return this.send(this.core.deleteNamespacedServiceAccount(name, namespace, ...BACKGROUND, body), (r) => this.coreOut.deleteNamespacedServiceAccountWithHttpInfo(r));
        case 'Role':
          return this.send(this.rbac.deleteNamespacedRole(name, namespace, ...BACKGROUND, body), (r) => this.rbacOut.deleteNamespacedRoleWithHttpInfo(r));
        case 'ClusterRole':
          return this.send(this.rbac.deleteClusterRole(name, ...BACKGROUND, body), (r) => this.rbacOut.deleteClusterRoleWithHttpInfo(r));
        case 'RoleBinding':
          return this.send(this.rbac.deleteNamespacedRoleBinding(name, namespace, ...BACKGROUND, body), (r) => this.rbacOut.deleteNamespacedRoleBindingWithHttpInfo(r));
        case 'ClusterRoleBinding':
          return this.send(this.rbac.deleteClusterRoleBinding(name, ...BACKGROUND, body), (r) => this.rbacOut.deleteClusterRoleBindingWithHttpInfo(r));
      }
    });
    // A uid precondition that fails (409) means the object read was replaced meanwhile: not ours.
    const done = await remove.catch((err: unknown) => {
      if (err instanceof KubeleaseError && err.kind === 'conflict') return undefined;
      throw err;
    });
    return done === undefined ? 'absent' : 'deleted';
  }

  private async readObject(ref: ObjectRef): Promise<{ metadata?: V1ObjectMeta } | undefined> {
    const namespace = ClientNodeCluster.namespaceOf(ref);
    const name = ref.name;
    const op: KubeOperation = { verb: 'get', resource: RESOURCE[ref.kind], namespace: namespace || undefined, name };
    return this.read(op, async (): Promise<{ metadata?: V1ObjectMeta }> => {
      switch (ref.kind) {
        case 'Secret':
          return this.send(this.core.readNamespacedSecret(name, namespace), (r) => this.coreOut.readNamespacedSecretWithHttpInfo(r));
        case 'ServiceAccount':
          return this.send(this.core.readNamespacedServiceAccount(name, namespace), (r) => this.coreOut.readNamespacedServiceAccountWithHttpInfo(r));
        case 'Role':
          return this.send(this.rbac.readNamespacedRole(name, namespace), (r) => this.rbacOut.readNamespacedRoleWithHttpInfo(r));
        case 'ClusterRole':
          return this.send(this.rbac.readClusterRole(name), (r) => this.rbacOut.readClusterRoleWithHttpInfo(r));
        case 'RoleBinding':
          return this.send(this.rbac.readNamespacedRoleBinding(name, namespace), (r) => this.rbacOut.readNamespacedRoleBindingWithHttpInfo(r));
        case 'ClusterRoleBinding':
          return this.send(this.rbac.readClusterRoleBinding(name), (r) => this.rbacOut.readClusterRoleBindingWithHttpInfo(r));
      }
    });
  }

  async requestToken(spec: {
    namespace: string;
    serviceAccount: string;
    audiences: string[];
    expirationSeconds: number;
    boundSecret?: { name: string; uid: string };
  }): Promise<IssuedToken> {
    const op: KubeOperation = {
      verb: 'create',
      resource: 'serviceaccounts/token',
      namespace: spec.namespace,
      name: spec.serviceAccount,
    };
    const res = await this.call(op, () =>
      this.send(
        this.core.createNamespacedServiceAccountToken(spec.serviceAccount, spec.namespace, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: [...spec.audiences],
            expirationSeconds: spec.expirationSeconds,
            ...(spec.boundSecret
              ? { boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: spec.boundSecret.name, uid: spec.boundSecret.uid } }
              : {}),
          },
        }),
        (r) => this.coreOut.createNamespacedServiceAccountTokenWithHttpInfo(r),
      ),
    );
    const token = res.status?.token;
    const exp = res.status?.expirationTimestamp;
    const expiresAt = exp instanceof Date ? exp : exp ? new Date(exp) : undefined;
    if (!token || !expiresAt || Number.isNaN(expiresAt.getTime())) {
      throw new KubeleaseError('upstream', `the cluster answered the TokenRequest for "${spec.namespace}/${spec.serviceAccount}" without a token or expiry`);
    }
    return { token, expiresAt };
  }

  async getNamespaceLabels(name: string): Promise<Record<string, string> | undefined> {
    const ns = await this.read({ verb: 'get', resource: 'namespaces', name }, () =>
      this.send(this.core.readNamespace(name), (r) => this.coreOut.readNamespaceWithHttpInfo(r)),
    );
    return ns ? { ...(ns.metadata?.labels ?? {}) } : undefined;
  }

  async serviceAccountExists(namespace: string, name: string): Promise<boolean> {
    const sa = await this.read({ verb: 'get', resource: 'serviceaccounts', namespace, name }, () =>
      this.send(this.core.readNamespacedServiceAccount(name, namespace), (r) => this.coreOut.readNamespacedServiceAccountWithHttpInfo(r)),
    );
    return sa !== undefined;
  }

  async roleExists(kind: 'Role' | 'ClusterRole', name: string, namespace?: string): Promise<boolean> {
    if (kind === 'Role') {
      if (!namespace) throw new KubeleaseError('invalid', `Role "${name}" needs a namespace`);
      const r = await this.read({ verb: 'get', resource: 'roles', namespace, name }, () =>
        this.send(this.rbac.readNamespacedRole(name, namespace), (r) => this.rbacOut.readNamespacedRoleWithHttpInfo(r)),
      );
      return r !== undefined;
    }
    const r = await this.read({ verb: 'get', resource: 'clusterroles', name }, () =>
      this.send(this.rbac.readClusterRole(name), (r) => this.rbacOut.readClusterRoleWithHttpInfo(r)),
    );
    return r !== undefined;
  }

  async listManaged(): Promise<ManagedListing> {
    const labelSelector = MANAGED_LABEL_SELECTOR;
    type Item = { metadata?: V1ObjectMeta };
    type Page = { items: Item[]; metadata?: { _continue?: string } };
    const all = async (kind: PlanKind, fetchPage: (cont?: string) => Promise<Page>): Promise<ManagedObject[]> => {
      const out: ManagedObject[] = [];
      let cont: string | undefined;
      do {
        const page = await this.call({ verb: 'list', resource: RESOURCE[kind] }, () => fetchPage(cont));
        for (const item of page.items) {
          const m = item.metadata;
          if (!m?.name) continue;
          out.push({
            kind,
            ...(m.namespace ? { namespace: m.namespace } : {}),
            name: m.name,
            ...(m.uid ? { uid: m.uid } : {}),
            labels: { ...(m.labels ?? {}) },
            annotations: { ...(m.annotations ?? {}) },
            ...(m.creationTimestamp ? { createdAt: new Date(m.creationTimestamp) } : {}),
          });
        }
        cont = page.metadata?._continue || undefined;
      } while (cont);
      return out;
    };
    const limit = this.pageSize;
    // the list calls' positional parameters, after allowWatchBookmarks: _continue, fieldSelector, labelSelector, limit
    const p = (cont?: string) => [cont, undefined, labelSelector, limit] as const;
    const skippedKinds: PlanKind[] = [];
    const secrets = all('Secret', (c) => this.send(this.core.listSecretForAllNamespaces(undefined, ...p(c)), (r) => this.coreOut.listSecretForAllNamespacesWithHttpInfo(r))).catch((err: unknown) => {
      // Admins who set `revocable: false` everywhere may not grant the broker secrets at all.
      if (err instanceof KubeleaseError && err.upstreamStatus === 403) {
        this.onWarning(`listManaged: skipping secrets: ${err.message}`);
        skippedKinds.push('Secret');
        return [] as ManagedObject[];
      }
      throw err;
    });
    const lists = await Promise.all([
      secrets,
      all('ServiceAccount', (c) =>
        this.send(this.core.listServiceAccountForAllNamespaces(undefined, ...p(c)), (r) => this.coreOut.listServiceAccountForAllNamespacesWithHttpInfo(r)),
      ),
      all('Role', (c) => this.send(this.rbac.listRoleForAllNamespaces(undefined, ...p(c)), (r) => this.rbacOut.listRoleForAllNamespacesWithHttpInfo(r))),
      all('RoleBinding', (c) =>
        this.send(this.rbac.listRoleBindingForAllNamespaces(undefined, ...p(c)), (r) => this.rbacOut.listRoleBindingForAllNamespacesWithHttpInfo(r)),
      ),
      all('ClusterRole', (c) => this.send(this.rbac.listClusterRole(undefined, undefined, ...p(c)), (r) => this.rbacOut.listClusterRoleWithHttpInfo(r))),
      all('ClusterRoleBinding', (c) => this.send(this.rbac.listClusterRoleBinding(undefined, undefined, ...p(c)), (r) => this.rbacOut.listClusterRoleBindingWithHttpInfo(r))),
    ]);
    return Object.assign(lists.flat(), skippedKinds.length > 0 ? { skippedKinds } : {});
  }

  async canI(checks: Omit<AccessCheck, 'allowed' | 'reason'>[]): Promise<AccessCheck[]> {
    return mapLimit(checks, this.concurrency, async (check) => {
      const res = await this.call({ verb: 'create', resource: 'selfsubjectaccessreviews' }, () =>
        this.send(
          this.authz.createSelfSubjectAccessReview({
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                verb: check.verb,
                group: check.group,
                resource: check.resource,
                ...(check.namespace ? { namespace: check.namespace } : {}),
                ...(check.subresource ? { subresource: check.subresource } : {}),
              },
            },
          }),
          (r) => this.authzOut.createSelfSubjectAccessReviewWithHttpInfo(r),
        ),
      );
      const reason = res.status?.reason || res.status?.evaluationError || undefined;
      return { ...check, allowed: res.status?.allowed === true, ...(reason ? { reason } : {}) };
    });
  }
}
