import type { EksBedInfo } from './eks/index.js';

/** Everything a test (or `npm start`) needs to talk to the bed; JSON-serialisable. */
export interface TestBedInfo {
  apiserver: { url: string; caPem: string };
  /** cluster-admin client certificate: for the harness only, tests act as the broker */
  admin: { kubeconfigPath: string; clientCertPem: string; clientKeyPem: string };
  broker: { token: string; namespace: string; serviceAccount: string; kubeconfigPath: string };
  dynamodb: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** the EKS side: cluster name and region, loopback STS, the broker's AWS session */
  eks: EksBedInfo;
  audiences: string[];
  issuer: string;
  /** working directory of this bed (logs/, pki/, kubeconfigs) */
  dir: string;
  logDir: string;
}

export interface TestBed extends TestBedInfo {
  /** SIGTERM every process (SIGKILL after 5 s), remove the temp dir; idempotent */
  stop(): Promise<void>;
  /** plain data view, what scripts/test.ts writes to the KUBELEASE_BED file */
  info(): TestBedInfo;
}

export interface TestBedOptions {
  /** where persistent state lives when `persist` is set (default <repo>/.kubelease/bed) */
  dataDir?: string;
  /** keep etcd, PKI and DynamoDB data across runs in dataDir (npm start); default: all in a temp dir */
  persist?: boolean;
  log?: (line: string) => void;
  /** directory with kube-apiserver and kube-controller-manager; default: newest build in the cache */
  kubeBinDir?: string;
  /** distinct free loopback ports, in the bed's order (etcd client, etcd peer, apiserver, DynamoDB Local); default freePorts */
  ports?: (n: number) => Promise<number[]>;
}
