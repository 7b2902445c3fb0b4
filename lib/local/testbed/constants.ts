/** Fixed identities and settings of the bed, shared by the bed and the tests that use it. */
export const ISSUER = 'https://kubernetes.default.svc';
export const AUDIENCES = ['https://kubernetes.default.svc', 'kubelease-test'];
export const BROKER_NAMESPACE = 'kubelease-system';
export const BROKER_SERVICE_ACCOUNT = 'kubelease-broker';
export const BROKER_TOKEN_TTL_SECONDS = 12 * 3600;
export const DYNAMODB_REGION = 'us-east-1';
export const DYNAMODB_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * The bed's EKS side (lib/local/testbed/eks): the cluster name tokens must be signed for, the
 * cluster's region and partition, and the IAM of the bed's AWS account as its STS knows it.
 */
export const EKS_ACCOUNT = '000000000000';
export const EKS = {
  clusterName: 'kubelease-bed',
  region: 'eu-west-1',
  partition: 'aws',
  /** the broker's Lambda execution role: the bed hands the broker a session of it */
  brokerRoleArn: `arn:aws:iam::${EKS_ACCOUNT}:role/kubelease-broker`,
  brokerSessionName: 'kubelease-local',
  /** a role that trusts the broker role with an ExternalId condition (a mount's role_arn) */
  clusterAccessRoleArn: `arn:aws:iam::${EKS_ACCOUNT}:role/kubelease-eks-access`,
  externalId: 'kubelease-bed-external-id',
  /** trusts the broker role but has no access entry: STS says yes, the cluster says no */
  unmappedRoleArn: `arn:aws:iam::${EKS_ACCOUNT}:role/kubelease-unmapped`,
  /** the group deploy/kubernetes/broker-rbac.yaml binds the broker ClusterRole to */
  brokerGroup: 'kubelease-broker',
} as const;
