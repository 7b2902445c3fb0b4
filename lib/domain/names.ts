/**
 * Name syntax: Kubernetes (DNS-1123, label keys/values, annotation keys), kubelease mounts,
 * Vault role names and IAM ARNs. Predicates return booleans; `check*` helpers throw `invalid`
 * with a field-named message.
 */
import { invalid } from './errors.js';
import { quote } from './describe.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
/** Vault's role name pattern (framework.GenericNameWithAtRegex): \w(([\w-.@]+)?\w)? */
const ROLE_NAME = /^\w(([\w\-.@]+)?\w)?$/;

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;
export const LABEL_VALUE_MAX = 63;
export const ROLE_NAME_MAX = 128;
export const RESERVED_MOUNTS: readonly string[] = ['sys', 'mounts'];

export const isDns1123Label = (s: string): boolean => s.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(s);
export const isDns1123Subdomain = (s: string): boolean => s.length <= DNS1123_SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(s);

/** A Kubernetes qualified name: `[prefix/]name`, prefix a DNS-1123 subdomain, name ≤ 63. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix === '') return 'has an empty prefix before "/"';
    if (!isDns1123Subdomain(prefix)) return `has prefix ${quote(prefix)} which is not a DNS-1123 subdomain (lower case alphanumerics, "-" and ".", at most 253 characters)`;
  } else return 'may contain at most one "/"';
  if (name === '') return 'has an empty name';
  if (name.length > 63) return 'has a name part longer than 63 characters';
  if (!QUALIFIED_NAME_PART.test(name)) return 'must consist of alphanumerics, "-", "_" or ".", and start and end with an alphanumeric (optionally prefixed by a DNS subdomain and "/")';
  return undefined;
}

export const isLabelValue = (v: string): boolean => v === '' || (v.length <= LABEL_VALUE_MAX && QUALIFIED_NAME_PART.test(v));

/** A mount names a cluster and labels every object (`kubelease.io/mount`): a DNS-1123 label. */
export const isMountName = (s: string): boolean => isDns1123Label(s) && !RESERVED_MOUNTS.includes(s);
export const isRoleName = (s: string): boolean => s.length <= ROLE_NAME_MAX && ROLE_NAME.test(s);

/** Kubernetes RBAC object names (Role / ClusterRole) are path segment names: `system:auth-delegator` is fine. */
export const isRbacName = (s: string): boolean =>
  s.length > 0 && s.length <= DNS1123_SUBDOMAIN_MAX && s !== '.' && s !== '..' && !/[/%]/.test(s);

/** An AWS region name: eu-west-1, us-gov-west-1, cn-north-1. */
export const isAwsRegion = (s: string): boolean => /^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/.test(s);

const PARTITION = /^aws(-[a-z]+)*$/;
/** Resource part of an IAM/STS ARN: IAM name characters plus "/" (paths). */
const ARN_RESOURCE = /^[\w+=,.@\-/]+$/;

/** A concrete IAM or STS ARN: arn:<partition>:iam|sts::<12 digits>:<resource>. */
export function isIamArn(s: string): boolean {
  const parts = s.split(':');
  if (parts.length !== 6) return false;
  const [arn, partition, service, region, account, resource] = parts as [string, string, string, string, string, string];
  return (
    arn === 'arn' &&
    PARTITION.test(partition) &&
    (service === 'iam' || service === 'sts') &&
    region === '' &&
    /^[0-9]{12}$/.test(account) &&
    resource.length > 0 &&
    resource.length <= 2048 &&
    ARN_RESOURCE.test(resource)
  );
}

/** An IAM role ARN: arn:<partition>:iam::<account>:role/[path/]name. */
export function isIamRoleArn(s: string): boolean {
  return isIamArn(s) && s.split(':')[2] === 'iam' && /^role\/(.+\/)?[\w+=,.@-]{1,64}$/.test(s.split(':')[5]!);
}

/**
 * An ARN pattern for allowed_principals: the shape of an IAM/STS ARN where `*` and `?` may
 * stand for any run of characters / one character in partition, account and resource.
 */
export function isIamArnPattern(s: string): boolean {
  if (s.length > 2048) return false;
  const parts = s.split(':');
  if (parts.length !== 6) return false;
  const [arn, partition, service, region, account, resource] = parts as [string, string, string, string, string, string];
  return (
    arn === 'arn' &&
    /^[a-z*?-]+$/.test(partition) &&
    /^(iam|sts|[a-z*?]*[*?][a-z*?]*)$/.test(service) &&
    region === '' &&
    (/^[0-9]{12}$/.test(account) || (/^[0-9*?]{1,12}$/.test(account) && /[*?]/.test(account))) &&
    resource.length > 0 &&
    /^[\w+=,.@\-/*?]+$/.test(resource)
  );
}

/** Turn any string into a Kubernetes label value (≤63, alnum ends), lossy. */
export function toLabelValue(s: string): string {
  let v = s.replace(/[^-A-Za-z0-9_.]/g, '_').slice(0, LABEL_VALUE_MAX);
  v = v.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  return v;
}

/** Lower-case and replace characters outside [a-z0-9-] with "-" (DNS-1123 label alphabet). */
export function sanitizeDnsLabel(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

export function checkMountName(mount: unknown, field = 'mount'): string {
  if (typeof mount !== 'string' || !isMountName(mount)) {
    const reserved = typeof mount === 'string' && RESERVED_MOUNTS.includes(mount);
    throw invalid(
      reserved
        ? `${field}: ${quote(mount)} is reserved`
        : `${field}: ${quote(mount)} is not a valid mount name (a DNS-1123 label: 1-63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit)`,
    );
  }
  return mount;
}

export function checkRoleName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !isRoleName(name)) {
    throw invalid(
      `${field}: ${quote(name)} is not a valid role name (letters, digits, "_", "-", ".", "@"; starting and ending with a letter, digit or "_"; at most ${ROLE_NAME_MAX} characters)`,
    );
  }
  return name;
}

/** Aliases used by the engine: throw `invalid` unless valid; return the name. */
export const validateMount = (mount: unknown): string => checkMountName(mount);
export const validateRoleName = (name: unknown): string => checkRoleName(name);
