/**
 * Raw role items in the roles table, key (mount, name). Admins may edit items in the console,
 * so nothing here validates: the engine parses every item it reads. `get` returns the raw item
 * as the table holds it, key attributes `mount` and `name` included (console items have them
 * too); `put` writes the given attributes with the key attributes set from its arguments.
 */
import { DeleteCommand, GetCommand, PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RoleStore } from '../../ports.js';
import { TtlCache } from '../ttl-cache.js';
import { call } from './util.js';

export interface DynamoRoleStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Query page size (tests force pagination with small values); default: DynamoDB's 1 MB pages */
  pageSize?: number;
  /** serve `get` from memory this long (ms; lib/adapters/ttl-cache.ts); default 0, off */
  cacheMs?: number;
}

const roleKey = (mount: string, name: string) => JSON.stringify([mount, name]);
const ofMount = (mount: string) => (key: string) => (JSON.parse(key) as [string, string])[0] === mount;

export class DynamoRoleStore implements RoleStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly pageSize: number | undefined;
  private readonly cache: TtlCache<Record<string, unknown>>;

  constructor(options: DynamoRoleStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.pageSize = options.pageSize;
    this.cache = new TtlCache(options.cacheMs ?? 0);
  }

  get(mount: string, name: string): Promise<Record<string, unknown> | undefined> {
    return this.cache.get(roleKey(mount, name), async () => {
      const out = await call(this.table, 'GetItem', () =>
        this.client.send(new GetCommand({ TableName: this.table, Key: { mount, name }, ConsistentRead: true })),
      );
      return out.Item;
    });
  }

  async put(mount: string, name: string, item: Record<string, unknown>): Promise<void> {
    const key = roleKey(mount, name);
    await this.cache.writing((k) => k === key, () =>
      call(this.table, 'PutItem', () => this.client.send(new PutCommand({ TableName: this.table, Item: { ...item, mount, name } }))),
    );
  }

  async delete(mount: string, name: string): Promise<void> {
    const key = roleKey(mount, name);
    await this.cache.writing((k) => k === key, () =>
      call(this.table, 'DeleteItem', () => this.client.send(new DeleteCommand({ TableName: this.table, Key: { mount, name } }))),
    );
  }

  async list(mount: string): Promise<string[]> {
    const names = await this.keys(mount);
    // DynamoDB orders by UTF-8 bytes; sort by JS order so every store agrees
    return names.sort();
  }

  /** One DeleteItem per role (a mount has a handful): no function needs BatchWriteItem. */
  async deleteAll(mount: string): Promise<void> {
    await this.cache.writing(ofMount(mount), async () => {
      const names = await this.keys(mount);
      for (let i = 0; i < names.length; i += 10) {
        await Promise.all(names.slice(i, i + 10).map((name) => this.delete(mount, name)));
      }
    });
  }

  private async keys(mount: string): Promise<string[]> {
    const names: string[] = [];
    await call(this.table, 'Query', async () => {
      const pages = paginateQuery(
        { client: this.client, ...(this.pageSize ? { pageSize: this.pageSize } : {}) },
        {
          TableName: this.table,
          KeyConditionExpression: 'mount = :m',
          ExpressionAttributeValues: { ':m': mount },
          ExpressionAttributeNames: { '#n': 'name' },
          ProjectionExpression: '#n',
          ConsistentRead: true,
        },
      );
      for await (const page of pages) for (const it of page.Items ?? []) if (typeof it.name === 'string') names.push(it.name);
    });
    return names;
  }
}
