/** Fixed identities and settings of the bed, shared by the bed and the tests that use it. */
export const ISSUER = 'https://kubernetes.default.svc';
export const AUDIENCES = ['https://kubernetes.default.svc', 'kubelease-test'];
export const BROKER_NAMESPACE = 'kubelease-system';
export const BROKER_SERVICE_ACCOUNT = 'kubelease-broker';
export const BROKER_TOKEN_TTL_SECONDS = 12 * 3600;
export const DYNAMODB_REGION = 'us-east-1';
export const DYNAMODB_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
