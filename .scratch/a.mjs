import { ObjectCoreV1Api, ObjectRbacAuthorizationV1Api, ObjectAuthorizationV1Api } from '@kubernetes/client-node/dist/gen/types/ObjectParamAPI.js';
import { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
import { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
const c = createConfiguration({ baseServer: new ServerConfiguration('https://x', {}) });
console.log(new ObjectCoreV1Api(c), new ObjectRbacAuthorizationV1Api(c), new ObjectAuthorizationV1Api(c));
