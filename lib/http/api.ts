/** Transport-neutral request/response shapes: API Gateway events and the local server map onto these. */
import type { Caller } from '../engine/deps.js';
import type { RouteOp } from './routes.js';

export interface ApiRequest {
  method: string;
  /** the matched route's operation (routes.ts) */
  op: RouteOp;
  /** as the edge matched them; each route's handler parses its own (path-params.ts) */
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  /** parsed JSON body, {} when empty */
  body: unknown;
  caller: Caller;
  requestId: string;
}

/** What a route handler gets: the request with its path parameters checked and typed. */
export interface RouteRequest<P> extends ApiRequest {
  params: P;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  /** the failure behind an error response, for logs and metrics only (never sent) */
  error?: unknown;
  /** the role mode of an issuance, for metrics only (never sent) */
  mode?: string;
}

export interface VaultEnvelope {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: unknown;
  warnings: string[] | null;
}

export function ok(req: ApiRequest, data: unknown, extra: Partial<VaultEnvelope> = {}): ApiResponse {
  const warnings = extra.warnings && extra.warnings.length > 0 ? extra.warnings : null;
  return {
    status: 200,
    body: { request_id: req.requestId, lease_id: '', renewable: false, lease_duration: 0, data, ...extra, warnings },
  };
}

/** Vault answers writes without data with 204; with warnings it answers 200 and data null. */
export function noContent(req: ApiRequest, warnings: string[] = []): ApiResponse {
  return warnings.length > 0 ? ok(req, null, { warnings }) : { status: 204 };
}

/** Vault's LIST verb reaches us as GET ?list=true: API Gateway and the local server accept no other method. */
export const isList = (req: ApiRequest) => req.query.list === 'true';
