/**
 * The normalized shapes every layer shares. zod schemas in this folder produce them;
 * adapters store them; lib/http renders them in Vault's shape.
 */
import type { PolicyRule, StoredPlan } from './plan.js';

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type RoleMode = 'existing_service_account' | 'bind_role' | 'generated_role';

/** A role after validation. TTLs in seconds, 0 = unset (system default applies). */
export interface Role {
  name: string;
  allowed_kubernetes_namespaces: string[];
  /** raw text as the admin sent it (JSON or YAML), '' when unset; parsed form next to it */
  allowed_kubernetes_namespace_selector: string;
  namespace_selector?: LabelSelector;
  token_max_ttl: number;
  token_default_ttl: number;
  token_default_audiences: string[];
  /** audiences a caller may request; [] = only token_default_audiences (or the cluster default); "*" = any */
  allowed_audiences: string[];
  service_account_name: string;
  kubernetes_role_name: string;
  kubernetes_role_type: 'Role' | 'ClusterRole';
  /** raw text as sent, '' when unset; parsed form next to it */
  generated_role_rules: string;
  rules?: PolicyRule[];
  name_template: string;
  extra_labels: Record<string, string>;
  extra_annotations: Record<string, string>;
  /** IAM principal ARNs or patterns with `*`; empty = nobody but admins */
  allowed_principals: string[];
  /** mode 1: bind tokens to a per-lease anchor Secret so revoke kills them (default true) */
  revocable: boolean;
  /** a caller may widen a ClusterRole role to a ClusterRoleBinding (cluster-wide) only when set */
  allow_cluster_role_binding: boolean;
}

export type ClusterAuth =
  | { kind: 'service_account_jwt'; service_account_jwt: string }
  | { kind: 'eks'; eks_cluster_name: string; eks_region: string; role_arn?: string; external_id?: string };

/** A cluster connection (one per mount). */
export interface ClusterConfig {
  mount: string;
  kubernetes_host: string;
  kubernetes_ca_cert: string;
  disable_local_ca_jwt: boolean;
  auth: ClusterAuth;
}

export interface CredsRequest {
  kubernetes_namespace?: string;
  cluster_role_binding: boolean;
  /** seconds, undefined = not requested */
  ttl?: number;
  /** undefined = not requested (role default, then cluster default) */
  audiences?: string[];
}

export type LeaseStatus = 'pending' | 'active' | 'revoking';

export interface Lease {
  lease_id: string; // `<mount>/creds/<role>/<random>` as Vault prints it
  lease_hash: string; // short, label-safe id used in kubelease.io/lease
  mount: string;
  role: string;
  namespace: string;
  caller_arn: string;
  status: LeaseStatus;
  issued_at: number; // epoch seconds
  /** epoch seconds: pending = now + grace; active = token expiry (the TTL attribute) */
  expires_at: number;
  /** what the lease owns: object references only (the lease hash guards every delete) */
  plan: StoredPlan;
  service_account_name: string;
}
