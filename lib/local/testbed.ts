/**
 * The real test bed (etcd, kube-apiserver, kube-controller-manager, DynamoDB Local and the
 * broker identity). The implementation lives in ./testbed/; this module keeps the public names
 * where every importer expects them.
 */
export {
  REPO_ROOT,
  BROKER_RBAC_MANIFEST,
  ISSUER,
  AUDIENCES,
  BROKER_NAMESPACE,
  BROKER_SERVICE_ACCOUNT,
  BROKER_TOKEN_TTL_SECONDS,
  DYNAMODB_REGION,
  DYNAMODB_CREDENTIALS,
  EKS,
  EKS_ACCOUNT,
  BedError,
  cacheRoot,
  ensureKubeBinaries,
  checkJava,
  reapLeftovers,
  kubeConfigFromFile,
  applyManifest,
  startTestBed,
} from './testbed/index.js';
export type { TestBedInfo, TestBed, TestBedOptions } from './testbed/index.js';
export type { EksBedInfo } from './testbed/eks/index.js';
