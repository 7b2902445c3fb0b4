import { CoreV1ApiRequestFactory, CoreV1ApiResponseProcessor } from '@kubernetes/client-node/dist/gen/apis/CoreV1Api.js';
import { RbacAuthorizationV1ApiRequestFactory, RbacAuthorizationV1ApiResponseProcessor } from '@kubernetes/client-node/dist/gen/apis/RbacAuthorizationV1Api.js';
import { AuthorizationV1ApiRequestFactory, AuthorizationV1ApiResponseProcessor } from '@kubernetes/client-node/dist/gen/apis/AuthorizationV1Api.js';
console.log(CoreV1ApiRequestFactory, CoreV1ApiResponseProcessor, RbacAuthorizationV1ApiRequestFactory, RbacAuthorizationV1ApiResponseProcessor, AuthorizationV1ApiRequestFactory, AuthorizationV1ApiResponseProcessor);
