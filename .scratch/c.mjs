import { CoreV1Api, RbacAuthorizationV1Api, AuthorizationV1Api, createConfiguration, ServerConfiguration } from '@kubernetes/client-node';
const c = createConfiguration({ baseServer: new ServerConfiguration('https://x', {}) });
console.log(new CoreV1Api(c), new RbacAuthorizationV1Api(c), new AuthorizationV1Api(c));
