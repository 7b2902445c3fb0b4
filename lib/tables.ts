/**
 * Table definitions shared by the CDK stack (infra/), DynamoDB Local (tests, npm start)
 * and the adapters, so the three never drift.
 */
export interface KeyAttr {
  name: string;
  type: 'S' | 'N';
}
export interface TableDef {
  /** logical id in CDK and default local table name */
  id: 'Config' | 'Roles' | 'Leases';
  partitionKey: KeyAttr;
  sortKey?: KeyAttr;
  ttlAttribute?: string;
  stream?: 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
  globalSecondaryIndexes?: { name: string; partitionKey: KeyAttr; sortKey?: KeyAttr }[];
}

export const LEASES_BY_MOUNT_EXPIRY = 'by_mount_expiry';
export const LEASES_BY_MOUNT_ROLE = 'by_mount_role';

export const tables = {
  config: { id: 'Config', partitionKey: { name: 'mount', type: 'S' } },
  roles: { id: 'Roles', partitionKey: { name: 'mount', type: 'S' }, sortKey: { name: 'name', type: 'S' } },
  leases: {
    id: 'Leases',
    partitionKey: { name: 'lease_id', type: 'S' },
    ttlAttribute: 'expires_at',
    stream: 'OLD_IMAGE',
    globalSecondaryIndexes: [
      { name: LEASES_BY_MOUNT_EXPIRY, partitionKey: { name: 'mount', type: 'S' }, sortKey: { name: 'expires_at', type: 'N' } },
      { name: LEASES_BY_MOUNT_ROLE, partitionKey: { name: 'mount', type: 'S' }, sortKey: { name: 'role_lease', type: 'S' } },
    ],
  },
} as const satisfies Record<string, TableDef>;

export type TableKey = keyof typeof tables;

/** Physical table names: env vars in Lambda (set by CDK), a prefix locally. */
export interface TableNames {
  config: string;
  roles: string;
  leases: string;
}

export const TABLE_ENV: Record<TableKey, string> = {
  config: 'KUBELEASE_CONFIG_TABLE',
  roles: 'KUBELEASE_ROLES_TABLE',
  leases: 'KUBELEASE_LEASES_TABLE',
};

export function tableNamesFromEnv(env: NodeJS.ProcessEnv = process.env): TableNames {
  const read = (k: TableKey) => {
    const v = env[TABLE_ENV[k]];
    if (!v) throw new Error(`${TABLE_ENV[k]} is not set`);
    return v;
  };
  return { config: read('config'), roles: read('roles'), leases: read('leases') };
}
