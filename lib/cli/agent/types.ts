/** The agent's normalized configuration (from flags or agent.yaml) and what one issuance yields. */
import type { CredsRequest } from '../core/creds-request.js';

export type Sink = { type: 'file'; path: string; mode: number } | { type: 'kubeconfig'; path: string; mode: number; context?: string | undefined };

export interface TemplateSpec {
  source: string;
  destination: string;
  mode: number;
  command?: string | undefined;
}

export interface ListenerSpec {
  host: string;
  port: number;
}

export interface CredentialSpec extends CredsRequest {
  name: string;
  sinks: Sink[];
  templates: TemplateSpec[];
  listener?: ListenerSpec | undefined;
  execAfter?: string | undefined;
}

export interface AgentConfig {
  addr?: string | undefined;
  region?: string | undefined;
  profile?: string | undefined;
  revokeOnExit: boolean;
  exitAfterAuth: boolean;
  credentials: CredentialSpec[];
}

export interface Issued {
  leaseId: string;
  token: string;
  leaseSeconds: number;
  issuedAtMs: number;
  expiresAtMs: number;
  namespace: string;
  serviceAccount: string;
  server: string;
  caPem: string;
}
