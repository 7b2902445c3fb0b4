import { str, type Parsed } from '../core/command.js';
import { Broker } from './broker.js';
import { resolveEndpoint } from './endpoint.js';

/** The broker client for a command's --addr/--region/--profile (or their environment variables). */
export function brokerFromFlags(p: Parsed, env: NodeJS.ProcessEnv, timeoutMs?: number): Broker {
  const endpoint = resolveEndpoint({ addr: str(p, 'addr'), region: str(p, 'region') }, env);
  return new Broker({ endpoint, profile: str(p, 'profile'), ...(timeoutMs ? { timeoutMs } : {}) });
}
