/**
 * The broker's own CloudWatch metrics (EMF through Powertools Metrics), named once for the
 * handlers that emit them and the alarms and dashboard in infra/ that read them. Every metric
 * carries the dimension `service` (Powertools' default dimension, POWERTOOLS_SERVICE_NAME).
 */
export const METRIC = {
  /** per route: dimension `op` */
  success: 'Success',
  failure: 'Failure',
  /** every 4xx/5xx by cause (the KubeleaseError kind, or http<status>): dimension `cause` */
  failures: 'Failures',
  /** creds issued and their latency (ms) by role mode: dimension `mode` */
  issued: 'Issued',
  issueLatency: 'IssueLatency',
  revoked: 'Revoked',
  /** expire (stream) path */
  expired: 'Expired',
  expireFailure: 'ExpireFailure',
  /** seconds from a lease's expiry to its objects' deletion by the stream path */
  expiryLag: 'ExpiryLag',
  /** sweep path, one value per run */
  sweptLeases: 'SweptLeases',
  orphansRemoved: 'OrphansRemoved',
  sweepFailures: 'SweepFailures',
  /** active leases not yet expired, counted by each sweep */
  liveLeases: 'LiveLeases',
  /** the oldest expiry a sweep run caught up with (seconds late) */
  sweepExpiryLag: 'SweepExpiryLag',
} as const;

export const SERVICE_NAME = 'kubelease';
