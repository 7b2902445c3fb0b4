/**
 * `kubelease/infra`: the public entry point of the construct library.
 *
 *   import { KubeleaseBroker } from 'kubelease/infra';
 *   new KubeleaseBroker(stack, 'Kubelease', { adminPrincipals: ['arn:aws:iam::123456789012:role/platform-admin'] });
 */
export * from './broker.js';
export { KubeleaseStack, PLACEHOLDER_ADMIN, type KubeleaseStackProps } from './stack.js';
export { stackPropsFromContext, CONTEXT_KEYS, type ContextReader, type ContextStackProps } from './context.js';
