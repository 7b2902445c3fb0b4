/**
 * The agent's listener address: loopback only. The listener attaches the agent's token to
 * whatever it forwards, so binding it anywhere else would hand the cluster to the network.
 */
import { CliError } from '../core/errors.js';
import type { ListenerSpec } from './types.js';

export function parseListenAddress(address: string, field = 'listener.address'): ListenerSpec {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address.trim());
  if (!m) throw new CliError(`${field}: "${address}" is not HOST:PORT (e.g. 127.0.0.1:8301)`, 2, 'use 127.0.0.1:PORT');
  const host = (m[1] ?? m[2])!;
  const port = Number(m[3]);
  if (port > 65535) throw new CliError(`${field}: port ${port} is out of range`, 2, 'use a port from 1 to 65535 (0 picks a free one)');
  if (host === 'localhost') return { host: '127.0.0.1', port };
  if (host === '::1' || /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host)) return { host, port };
  throw new CliError(
    `${field}: "${address}" is not a loopback address; the listener attaches the agent's token to every request, so it binds to 127.0.0.1 or ::1 only`,
    2,
    'use 127.0.0.1:PORT (in a Pod, containers share the loopback interface)',
  );
}
