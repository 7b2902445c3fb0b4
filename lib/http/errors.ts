import { isKubeleaseError } from '../domain/errors.js';
import type { ApiResponse } from './api.js';

/**
 * What a caller reads of a 5xx: a short message and the request id. The detail (AWS error text
 * with role and key ARNs, account ids, the cluster's answer) goes to the log line of that request
 * id, never into the body.
 */
export const SERVER_ERROR_MESSAGES: Record<number, string> = {
  500: 'internal error; the details are in the broker log',
  502: "the target cluster or an AWS service refused or failed the request; the details are in the broker log",
  503: 'the target cluster or an AWS service is unavailable or throttling; try again later',
};

/** Any thrown value → Vault's `{"errors": [...]}`: 4xx name the field, 5xx say only what failed and where to look. */
export function errorResponse(err: unknown, requestId: string): ApiResponse {
  const status = isKubeleaseError(err) ? err.status : 500;
  if (isKubeleaseError(err) && status < 500) return { status, body: { errors: err.errors } };
  return { status, body: { errors: [serverErrorMessage(status, requestId)] } };
}

export const serverErrorMessage = (status: number, requestId: string): string =>
  `${SERVER_ERROR_MESSAGES[status] ?? SERVER_ERROR_MESSAGES[500]} (request id ${requestId})`;

export function methodNotAllowed(method: string, op: string): ApiResponse {
  return { status: 405, body: { errors: [`${method} is not supported on ${op}`] } };
}
