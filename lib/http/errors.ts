import { isKubeleaseError } from '../domain/errors.js';
import type { ApiResponse } from './api.js';

/** Any thrown value → Vault's `{"errors": [...]}`. Unknown errors never leak their message. */
export function errorResponse(err: unknown): ApiResponse {
  if (isKubeleaseError(err)) return { status: err.status, body: { errors: err.errors } };
  return { status: 500, body: { errors: ['internal error; see the broker logs with the request id'] } };
}

export function methodNotAllowed(method: string, op: string): ApiResponse {
  return { status: 405, body: { errors: [`${method} is not supported on ${op}`] } };
}
