/**
 * ClusterConfig in the config table, one item per mount. The service account JWT is sealed
 * with a SecretBox (encryption context {mount}) into `service_account_jwt_ciphertext`; the
 * plaintext is never written. Items are flat so they read well in the console:
 *
 *   mount, kubernetes_host, kubernetes_ca_cert, disable_local_ca_jwt, auth_kind,
 *   service_account_jwt_ciphertext | eks_cluster_name, eks_region, role_arn?, external_id?
 */
import { DeleteCommand, GetCommand, PutCommand, paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isKubeleaseError, unprocessable } from '../../domain/errors.js';
import type { ClusterAuth, ClusterConfig } from '../../domain/types.js';
import type { ConfigStore, SecretBox } from '../../ports.js';
import { TtlCache } from '../ttl-cache.js';
import { call, isConditionalCheckFailed, storeError } from './util.js';

/**
 * The deployment's installation id lives in the config table under this key: not a valid mount
 * name, so it never collides with one, and list() leaves it out.
 */
export const INSTALLATION_KEY = 'sys/installation';

export interface DynamoConfigStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  box: SecretBox;
  /** serve `get` from memory this long (ms; lib/adapters/ttl-cache.ts); default 0, off */
  cacheMs?: number;
}

/** Exported so tests and tooling can see the exact item shape. */
export interface ConfigItem {
  mount: string;
  kubernetes_host: string;
  kubernetes_ca_cert: string;
  disable_local_ca_jwt: boolean;
  auth_kind: ClusterAuth['kind'];
  service_account_jwt_ciphertext?: string;
  eks_cluster_name?: string;
  eks_region?: string;
  role_arn?: string;
  external_id?: string;
}

export const jwtContext = (mount: string): Record<string, string> => ({ mount });

export class DynamoConfigStore implements ConfigStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly box: SecretBox;
  /** found once, the id never changes: warm containers read it once */
  private installation: string | undefined;
  /**
   * Opened JWTs by mount and ciphertext: a ciphertext (with its encryption context) always opens to
   * the same JWT, so a warm container asks KMS once per sealed value, not once per read.
   */
  private readonly opened = new Map<string, string>();
  private readonly cache: TtlCache<ClusterConfig>;

  constructor(options: DynamoConfigStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.box = options.box;
    this.cache = new TtlCache(options.cacheMs ?? 0);
  }

  get(mount: string): Promise<ClusterConfig | undefined> {
    return this.cache.get(mount, async () => {
      const out = await call(this.table, 'GetItem', () =>
        this.client.send(new GetCommand({ TableName: this.table, Key: { mount }, ConsistentRead: true })),
      );
      if (!out.Item) return undefined;
      return this.fromItem(out.Item);
    });
  }

  async exists(mount: string): Promise<boolean> {
    const out = await call(this.table, 'GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.table, Key: { mount }, ConsistentRead: true, ProjectionExpression: 'mount' })),
    );
    return out.Item !== undefined;
  }

  async put(config: ClusterConfig): Promise<void> {
    const item = await this.toItem(config);
    await this.cache.writing((m) => m === config.mount, () =>
      call(this.table, 'PutItem', () => this.client.send(new PutCommand({ TableName: this.table, Item: item }))),
    );
  }

  async delete(mount: string): Promise<void> {
    await this.cache.writing((m) => m === mount, () =>
      call(this.table, 'DeleteItem', () => this.client.send(new DeleteCommand({ TableName: this.table, Key: { mount } }))),
    );
  }

  async list(): Promise<string[]> {
    const mounts: string[] = [];
    await call(this.table, 'Scan', async () => {
      const pages = paginateScan({ client: this.client }, { TableName: this.table, ProjectionExpression: 'mount', ConsistentRead: true });
      for await (const page of pages) {
        for (const it of page.Items ?? []) if (typeof it.mount === 'string' && it.mount !== INSTALLATION_KEY) mounts.push(it.mount);
      }
    });
    return mounts.sort();
  }

  async installationId(): Promise<string | undefined> {
    if (this.installation) return this.installation;
    const out = await call(this.table, 'GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.table, Key: { mount: INSTALLATION_KEY }, ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    const id = out.Item.installation_id;
    if (typeof id !== 'string' || id === '') throw unprocessable(`config ${INSTALLATION_KEY}: installation_id must be a non-empty string`);
    this.installation = id;
    return id;
  }

  async ensureInstallationId(create: () => string): Promise<string> {
    const existing = await this.installationId();
    if (existing) return existing;
    const id = create();
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { mount: INSTALLATION_KEY, installation_id: id, created_at: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(mount)',
        }),
      );
      this.installation = id;
      return id;
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw storeError(this.table, 'PutItem', e);
    }
    // another container created it first: theirs is the one
    const winner = await this.installationId();
    if (!winner) throw unprocessable(`config ${INSTALLATION_KEY}: the item exists but could not be read back`);
    return winner;
  }

  private async toItem(c: ClusterConfig): Promise<ConfigItem> {
    const base = {
      mount: c.mount,
      kubernetes_host: c.kubernetes_host,
      kubernetes_ca_cert: c.kubernetes_ca_cert,
      disable_local_ca_jwt: c.disable_local_ca_jwt,
    };
    if (c.auth.kind === 'service_account_jwt') {
      return {
        ...base,
        auth_kind: 'service_account_jwt',
        service_account_jwt_ciphertext: await this.box.seal(c.auth.service_account_jwt, jwtContext(c.mount)),
      };
    }
    return {
      ...base,
      auth_kind: 'eks',
      eks_cluster_name: c.auth.eks_cluster_name,
      eks_region: c.auth.eks_region,
      ...(c.auth.role_arn ? { role_arn: c.auth.role_arn } : {}),
      ...(c.auth.external_id ? { external_id: c.auth.external_id } : {}),
    };
  }

  private async openJwt(mount: string, sealed: string): Promise<string> {
    const key = `${mount}\u0000${sealed}`;
    const hit = this.opened.get(key);
    if (hit !== undefined) return hit;
    let jwt: string;
    try {
      jwt = await this.box.open(sealed, jwtContext(mount));
    } catch (e) {
      if (isKubeleaseError(e) && e.kind === 'unprocessable') throw unprocessable(`config ${mount}: service_account_jwt_ciphertext: ${e.message}`);
      throw e;
    }
    // one entry per mount: a rotated JWT replaces the old one
    for (const k of this.opened.keys()) if (k.startsWith(`${mount}\u0000`)) this.opened.delete(k);
    this.opened.set(key, jwt);
    return jwt;
  }

  private async fromItem(item: Record<string, unknown>): Promise<ClusterConfig> {
    const mount = item.mount as string;
    const str = (field: string, optional = false): string => {
      const v = item[field];
      if (v === undefined && optional) return '';
      if (typeof v !== 'string') throw unprocessable(`config ${mount}: ${field} must be a string`);
      return v;
    };
    const base = {
      mount,
      kubernetes_host: str('kubernetes_host'),
      kubernetes_ca_cert: str('kubernetes_ca_cert', true),
      disable_local_ca_jwt: item.disable_local_ca_jwt === true,
    };
    let auth: ClusterAuth;
    if (item.auth_kind === 'service_account_jwt') {
      const sealed = str('service_account_jwt_ciphertext');
      auth = { kind: 'service_account_jwt', service_account_jwt: await this.openJwt(mount, sealed) };
    } else if (item.auth_kind === 'eks') {
      const roleArn = str('role_arn', true);
      const externalId = str('external_id', true);
      auth = {
        kind: 'eks',
        eks_cluster_name: str('eks_cluster_name'),
        eks_region: str('eks_region'),
        ...(roleArn ? { role_arn: roleArn } : {}),
        ...(roleArn && externalId ? { external_id: externalId } : {}),
      };
    } else {
      throw unprocessable(`config ${mount}: auth_kind must be service_account_jwt or eks`);
    }
    return { ...base, auth };
  }
}
