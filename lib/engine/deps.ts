import type { Audit, Clock, ConfigStore, Ids, KubeClientFactory, LeaseStore, RoleStore } from '../ports.js';

export interface EngineSettings {
  /** IAM ARNs or patterns allowed to administer config and roles */
  adminPrincipals: string[];
  /** a lease whose objects are not all there this long after issue (s) is an issuance that died: the sweeper ends it */
  pendingGraceSeconds: number;
  /** orphaned labeled objects younger than this are left alone by the sweeper (s) */
  orphanGraceSeconds: number;
}

export const defaultSettings: EngineSettings = {
  adminPrincipals: [],
  pendingGraceSeconds: 900,
  orphanGraceSeconds: 300,
};

export interface EngineDeps {
  configs: ConfigStore;
  roles: RoleStore;
  leases: LeaseStore;
  kube: KubeClientFactory;
  clock: Clock;
  ids: Ids;
  audit?: Audit;
  settings: EngineSettings;
}

/** Who is calling, as API Gateway's IAM context reports it. */
export interface Caller {
  arn: string;
}

export const epochSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);
