/**
 * Stands in for the three client-node API groups the kube adapter imports (and, through their
 * serializer, every generated model), so the cold-start bench can size and time the creds bundle
 * without client-node's generated code: what hand-written REST calls on the same node:https
 * transport would leave (issue 13 §3, "measure the alternatives"). The bundle built with it is
 * imported only, never called.
 */
export class AuthorizationV1ApiRequestFactory {}
export class AuthorizationV1ApiResponseProcessor {}
export class CoreV1ApiRequestFactory {}
export class CoreV1ApiResponseProcessor {}
export class RbacAuthorizationV1ApiRequestFactory {}
export class RbacAuthorizationV1ApiResponseProcessor {}
export class ServerConfiguration {}
