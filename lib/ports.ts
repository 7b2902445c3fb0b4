/** Ports the engine talks through. Adapters implement them; unit tests use in-memory fakes. */
import type { ClusterConfig, Lease, LeaseStatus } from './domain/types.js';
import type { ObjectRef, PlanKind, PlanObject } from './domain/plan.js';

export interface ConfigStore {
  get(mount: string): Promise<ClusterConfig | undefined>;
  /** a consistent read of whether the mount is configured, without opening its secret */
  exists(mount: string): Promise<boolean>;
  put(config: ClusterConfig): Promise<void>;
  delete(mount: string): Promise<void>;
  /** configured mounts only (never the installation item) */
  list(): Promise<string[]>;
  /** this deployment's installation id, undefined until one was created */
  installationId(): Promise<string | undefined>;
  /**
   * The installation id, created once with `create()` if there is none yet. Race-safe: a
   * conditional write makes every concurrent caller return the same, first-written id.
   */
  ensureInstallationId(create: () => string): Promise<string>;
}

/** Returns raw items: the engine validates them on every read (console edits). */
export interface RoleStore {
  get(mount: string, name: string): Promise<Record<string, unknown> | undefined>;
  put(mount: string, name: string, item: Record<string, unknown>): Promise<void>;
  delete(mount: string, name: string): Promise<void>;
  list(mount: string): Promise<string[]>;
  deleteAll(mount: string): Promise<void>;
}

export interface LeaseQuery {
  role?: string;
  /** only leases whose expires_at < this epoch second */
  expiredBefore?: number;
  limit?: number;
  /**
   * Items that cannot be read as a lease (edited in the console) are skipped and handed here;
   * without it the first one fails the whole call (422), as it should for a caller that must
   * see every lease (a config delete).
   */
  onUnreadable?: (item: { lease_id: string; lease_hash?: string }, problems: string[]) => void;
}

export interface LeaseStore {
  /** fails with conflict if the id exists */
  create(lease: Lease): Promise<void>;
  get(leaseId: string): Promise<Lease | undefined>;
  /**
   * Conditional on the current status; false when the condition failed, unless the item already
   * holds the patched status (and expiry): a retried attempt that landed the first time.
   */
  transition(leaseId: string, from: LeaseStatus[], patch: Partial<Pick<Lease, 'status' | 'expires_at'>>): Promise<boolean>;
  /** conditional delete; returns false when already gone */
  delete(leaseId: string): Promise<boolean>;
  listByMount(mount: string, query?: LeaseQuery): Promise<Lease[]>;
}

/** What must hold for an object to be deleted: every delete names the lease that owns it. */
export interface DeleteGuard {
  /** value of the kubelease.io/lease label the object must carry */
  leaseHash: string;
  /** when set, an object labeled with a different kubelease.io/installation is not ours */
  installation?: string;
}

/**
 * An object as a listing saw it: a delete given one skips its own read, judges these labels and
 * sends this uid as its precondition (a replaced object is then left alone, as after a read).
 */
export interface SeenObject {
  uid: string;
  labels: Record<string, string>;
}

export interface ManagedObject extends ObjectRef {
  /** set by listings (the sweeper passes it to delete as what it saw) */
  uid?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** creationTimestamp; the sweeper leaves young objects alone (issue in flight) */
  createdAt?: Date;
}

/** What listManaged found; `skippedKinds`: kinds the broker may not list (absent from the array). */
export type ManagedListing = ManagedObject[] & { skippedKinds?: readonly PlanKind[] };

export interface IssuedToken {
  token: string;
  /** real expiry from TokenRequest status */
  expiresAt: Date;
}

export interface AccessCheck {
  namespace?: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  allowed: boolean;
  reason?: string;
}

/** One target cluster, as the broker identity. Errors are KubeleaseErrors (upstream/forbidden/...). */
export interface KubeCluster {
  /** creates the object; ownerUid set → ownerReference to that ServiceAccount. Returns the uid. */
  create(object: PlanObject, owner?: { name: string; uid: string }): Promise<{ uid: string }>;
  /**
   * 404 counts as done. Only the object labeled with the guard's lease (and, when the guard names
   * one, not labeled with another installation) is deleted, and exactly the one read (uid
   * precondition); anything else counts as absent, never deleted.
   */
  delete(ref: ObjectRef, guard: DeleteGuard, seen?: SeenObject): Promise<'deleted' | 'absent'>;
  requestToken(spec: {
    namespace: string;
    serviceAccount: string;
    audiences: string[];
    expirationSeconds: number;
    boundSecret?: { name: string; uid: string };
  }): Promise<IssuedToken>;
  getNamespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  serviceAccountExists(namespace: string, name: string): Promise<boolean>;
  roleExists(kind: 'Role' | 'ClusterRole', name: string, namespace?: string): Promise<boolean>;
  /** every object labeled app.kubernetes.io/managed-by=kubelease, all namespaces */
  listManaged(): Promise<ManagedListing>;
  /** SelfSubjectAccessReview for each check, as the broker */
  canI(checks: Omit<AccessCheck, 'allowed' | 'reason'>[]): Promise<AccessCheck[]>;
}

export interface KubeClientFactory {
  forCluster(config: ClusterConfig): Promise<KubeCluster>;
}

export interface Clock {
  now(): Date;
}

export interface Ids {
  /** url-safe random string of n chars, [a-z0-9] */
  random(n: number): string;
}

export interface AuditEvent {
  action: string;
  caller?: string;
  mount?: string;
  role?: string;
  lease_id?: string;
  outcome: 'success' | 'denied' | 'error';
  detail?: string;
}
export interface Audit {
  record(event: AuditEvent): void;
}

/** Envelope encryption of stored secrets (KMS in AWS, a local key file locally). */
export interface SecretBox {
  seal(plaintext: string, context: Record<string, string>): Promise<string>;
  open(ciphertext: string, context: Record<string, string>): Promise<string>;
}
