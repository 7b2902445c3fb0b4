/** Public surface of lib/domain. */
export * from './errors.js';
export * from './plan.js';
export * from './types.js';
export { parseCommaList } from './describe.js';
export * from './duration.js';
export * from './names.js';
export * from './labels.js';
export * from './selector.js';
export * from './rules.js';
export * from './template.js';
export * from './role.js';
export * from './config.js';
export * from './creds.js';
export * from './ttl.js';
export * from './namespace.js';
export * from './principals.js';
export * from './limits.js';
export * from './audiences.js';
export {
  buildPlan,
  checkClusterRoleBinding,
  rfc3339,
} from './build-plan.js';
export * from './lease.js';
