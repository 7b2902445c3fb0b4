/**
 * KubeCluster on @kubernetes/client-node 2.x, acting as the broker identity of one target cluster.
 *
 * Transport notes (client-node 2 uses undici's fetch):
 * - Every call carries `AbortSignal.timeout(timeoutMs)` (default 10 s), set by a request
 *   middleware; it covers connect, response headers and body. Expired → 'unavailable'.
 * - client-node builds a new undici Agent (new TLS connection) per request. The auth method
 *   below keeps the first dispatcher it gets and reuses it, so a warm Lambda keeps one
 *   keep-alive connection per cluster instead of one handshake per call.
 * - With a `tokenSource` (EKS), the bearer token is asked for on every request; the source
 *   caches and refreshes it before the 15-minute EKS token lifetime runs out. A 401 answer
 *   invalidates the token it was sent with and the call is made once more with a fresh one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  ServerConfiguration,
  createConfiguration,
  type Middleware,
  type RequestContext,
  type SecurityAuthentication,
  type V1ObjectMeta,
  type V1OwnerReference,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import type { AccessCheck, DeleteGuard, IssuedToken, KubeCluster, ManagedListing, ManagedObject } from '../../ports.js';
import { cloneRule, type ObjectRef, type PlanKind, type PlanObject, type PolicyRule } from '../../domain/plan.js';
import { KubeleaseError } from '../../domain/errors.js';
import { LABEL_INSTALLATION, LABEL_LEASE, MANAGED_LABEL_SELECTOR } from '../../domain/labels.js';
import { withRetries, type RetryPolicy } from '../retry.js';
import { hasStatus, kubeRetryDecision, mapKubeError, type KubeOperation } from './errors.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

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

type Dispatcher = ReturnType<RequestContext['getDispatcher']>;

/** the bearer token one call (and its retry) is made with, so that a 401 names the token it refused */
const callToken = new AsyncLocalStorage<string>();

/** kubeconfig authentication + one reused dispatcher + optional dynamic bearer token. */
class BrokerAuth implements SecurityAuthentication {
  private dispatcher: Dispatcher;
  constructor(
    private readonly kc: KubeConfig,
    private readonly tokenSource?: BearerTokenSource,
  ) {}
  getName(): string {
    return 'kubelease broker';
  }
  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context);
    if (this.tokenSource) {
      context.setHeaderParam('Authorization', `Bearer ${callToken.getStore() ?? (await this.tokenSource.token())}`);
    }
    const fresh = context.getDispatcher();
    if (fresh !== undefined) {
      this.dispatcher ??= fresh;
      context.setDispatcher(this.dispatcher);
    }
  }
  async close(): Promise<void> {
    const d = this.dispatcher;
    this.dispatcher = undefined;
    if (d) await d.close();
  }
}

/** Builds a KubeConfig for one cluster + bearer token (token may be omitted when a provider is used). */
export function kubeConfigFor(conn: { server: string; caPem?: string; token?: string }): KubeConfig {
  const kc = new KubeConfig();
  const ca = normalizePem(conn.caPem);
  kc.loadFromOptions({
    clusters: [
      {
        name: 'target',
        server: conn.server.replace(/\/+$/, ''),
        skipTLSVerify: false,
        ...(ca ? { caData: Buffer.from(ca, 'utf8').toString('base64') } : {}),
      },
    ],
    users: [{ name: 'broker', ...(conn.token ? { token: conn.token } : {}) }],
    contexts: [{ name: 'broker', cluster: 'target', user: 'broker' }],
    currentContext: 'broker',
  });
  return kc;
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
  private readonly core: CoreV1Api;
  private readonly rbac: RbacAuthorizationV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly auth: BrokerAuth;
  private readonly tokenSource: BearerTokenSource | undefined;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly pageSize: number;
  private readonly onWarning: (message: string) => void;
  private readonly retry: RetryPolicy;

  /** `kc`: the broker identity (current context's cluster + user). */
  constructor(kc: KubeConfig, options: ClusterOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeleaseError('invalid', 'kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.concurrency = options.concurrency ?? 8;
    this.pageSize = options.pageSize ?? 500;
    this.onWarning = options.onWarning ?? ((m) => console.warn(`[kubelease] ${m}`));
    this.tokenSource = options.tokenSource;
    this.retry = options.retry ?? {};
    this.auth = new BrokerAuth(kc, options.tokenSource);
    const timeoutMs = this.timeoutMs;
    const perRequest: Middleware = {
      pre: async (ctx) => {
        ctx.setSignal(AbortSignal.timeout(timeoutMs));
        ctx.setHeaderParam('User-Agent', 'kubelease');
        return ctx;
      },
      post: async (res) => res,
    };
    const config = createConfiguration({
      baseServer: new ServerConfiguration(this.server, {}),
      authMethods: { default: this.auth },
      promiseMiddleware: [perRequest],
    });
    this.core = new CoreV1Api(config);
    this.rbac = new RbacAuthorizationV1Api(config);
    this.authz = new AuthorizationV1Api(config);
  }

  static fromConnection(conn: Connection): ClientNodeCluster {
    if (!conn.token && !conn.tokenSource) {
      throw new KubeleaseError('invalid', 'a cluster connection needs a token or a token provider');
    }
    const { server, caPem, token, ...options } = conn;
    return new ClientNodeCluster(kubeConfigFor({ server, caPem, token }), options);
  }

  /** Closes the kept-alive connection (tests; Lambda just freezes). */
  async close(): Promise<void> {
    await this.auth.close();
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
          return this.core.createNamespacedSecret({
            namespace,
            body: { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque' },
          });
        case 'ServiceAccount':
          return this.core.createNamespacedServiceAccount({
            namespace,
            body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: false },
          });
        case 'Role':
          return this.rbac.createNamespacedRole({
            namespace,
            body: { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata, rules: toRules(obj.rules) },
          });
        case 'ClusterRole':
          return this.rbac.createClusterRole({
            body: { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata, rules: toRules(obj.rules) },
          });
        case 'RoleBinding':
          return this.rbac.createNamespacedRoleBinding({
            namespace,
            body: { apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata, ...bindingParts() },
          });
        case 'ClusterRoleBinding':
          return this.rbac.createClusterRoleBinding({
            body: { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRoleBinding', metadata, ...bindingParts() },
          });
      }
    });
    const uid = created.metadata?.uid;
    if (!uid) throw new KubeleaseError('upstream', `the cluster created ${obj.kind} "${obj.name}" but returned no uid`);
    return { uid };
  }

  /**
   * Only an object labeled with the guard's lease (and not with another installation) is
   * deleted, and exactly the one that was read (uid precondition): a name collision never deletes
   * an object kubelease does not own.
   */
  async delete(ref: ObjectRef, guard: DeleteGuard): Promise<'deleted' | 'absent'> {
    const namespace = ClientNodeCluster.namespaceOf(ref);
    const current = await this.readObject(ref);
    const labels = current?.metadata?.labels ?? {};
    const uid = current?.metadata?.uid;
    const otherInstallation = guard.installation !== undefined && labels[LABEL_INSTALLATION] !== undefined && labels[LABEL_INSTALLATION] !== guard.installation;
    if (!current || !uid || !guard.leaseHash || labels[LABEL_LEASE] !== guard.leaseHash || otherInstallation) return 'absent';
    const p = { name: ref.name, propagationPolicy: 'Background', body: { preconditions: { uid } } };
    const op: KubeOperation = { verb: 'delete', resource: RESOURCE[ref.kind], namespace: namespace || undefined, name: ref.name };
    const remove = this.read(op, async () => {
      switch (ref.kind) {
        case 'Secret':
          return this.core.deleteNamespacedSecret({ ...p, namespace });
        case 'ServiceAccount':
          return this.core.deleteNamespacedServiceAccount({ ...p, namespace });
        case 'Role':
          return this.rbac.deleteNamespacedRole({ ...p, namespace });
        case 'ClusterRole':
          return this.rbac.deleteClusterRole(p);
        case 'RoleBinding':
          return this.rbac.deleteNamespacedRoleBinding({ ...p, namespace });
        case 'ClusterRoleBinding':
          return this.rbac.deleteClusterRoleBinding(p);
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
          return this.core.readNamespacedSecret({ name, namespace });
        case 'ServiceAccount':
          return this.core.readNamespacedServiceAccount({ name, namespace });
        case 'Role':
          return this.rbac.readNamespacedRole({ name, namespace });
        case 'ClusterRole':
          return this.rbac.readClusterRole({ name });
        case 'RoleBinding':
          return this.rbac.readNamespacedRoleBinding({ name, namespace });
        case 'ClusterRoleBinding':
          return this.rbac.readClusterRoleBinding({ name });
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
      this.core.createNamespacedServiceAccountToken({
        name: spec.serviceAccount,
        namespace: spec.namespace,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: [...spec.audiences],
            expirationSeconds: spec.expirationSeconds,
            ...(spec.boundSecret
              ? { boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: spec.boundSecret.name, uid: spec.boundSecret.uid } }
              : {}),
          },
        },
      }),
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
    const ns = await this.read({ verb: 'get', resource: 'namespaces', name }, () => this.core.readNamespace({ name }));
    return ns ? { ...(ns.metadata?.labels ?? {}) } : undefined;
  }

  async serviceAccountExists(namespace: string, name: string): Promise<boolean> {
    const sa = await this.read({ verb: 'get', resource: 'serviceaccounts', namespace, name }, () =>
      this.core.readNamespacedServiceAccount({ namespace, name }),
    );
    return sa !== undefined;
  }

  async roleExists(kind: 'Role' | 'ClusterRole', name: string, namespace?: string): Promise<boolean> {
    if (kind === 'Role') {
      if (!namespace) throw new KubeleaseError('invalid', `Role "${name}" needs a namespace`);
      const r = await this.read({ verb: 'get', resource: 'roles', namespace, name }, () => this.rbac.readNamespacedRole({ namespace, name }));
      return r !== undefined;
    }
    const r = await this.read({ verb: 'get', resource: 'clusterroles', name }, () => this.rbac.readClusterRole({ name }));
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
    const p = (cont?: string) => ({ labelSelector, limit, ...(cont ? { _continue: cont } : {}) });
    const skippedKinds: PlanKind[] = [];
    const secrets = all('Secret', (c) => this.core.listSecretForAllNamespaces(p(c))).catch((err: unknown) => {
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
      all('ServiceAccount', (c) => this.core.listServiceAccountForAllNamespaces(p(c))),
      all('Role', (c) => this.rbac.listRoleForAllNamespaces(p(c))),
      all('RoleBinding', (c) => this.rbac.listRoleBindingForAllNamespaces(p(c))),
      all('ClusterRole', (c) => this.rbac.listClusterRole(p(c))),
      all('ClusterRoleBinding', (c) => this.rbac.listClusterRoleBinding(p(c))),
    ]);
    return Object.assign(lists.flat(), skippedKinds.length > 0 ? { skippedKinds } : {});
  }

  async canI(checks: Omit<AccessCheck, 'allowed' | 'reason'>[]): Promise<AccessCheck[]> {
    return mapLimit(checks, this.concurrency, async (check) => {
      const res = await this.call({ verb: 'create', resource: 'selfsubjectaccessreviews' }, () =>
        this.authz.createSelfSubjectAccessReview({
          body: {
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
          },
        }),
      );
      const reason = res.status?.reason || res.status?.evaluationError || undefined;
      return { ...check, allowed: res.status?.allowed === true, ...(reason ? { reason } : {}) };
    });
  }
}
