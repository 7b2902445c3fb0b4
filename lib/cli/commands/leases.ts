import { API_OPTIONS, TABLE_JSON_OUTPUT, expectPositionals, outputFormat, type Command } from '../core/command.js';
import { CliError } from '../core/errors.js';
import { humanDuration, table } from '../core/format.js';
import { styleFor } from '../core/style.js';
import { parseMountPrefix } from '../core/target.js';
import { ApiError, type Broker, type LeaseInfo } from '../client/broker.js';
import { brokerFromFlags } from '../client/from-flags.js';

export const leasesCommand: Command = {
  name: 'leases',
  summary: 'List leases: admins see all, everyone else their own. Without a mount, every mount (admins only).',
  synopsis: '[<mount>[/<role>]] [-o table|json]',
  options: { ...TABLE_JSON_OUTPUT, ...API_OPTIONS },
  examples: ['kubelease leases prod', 'kubelease leases prod/deploy -o json'],
  async run(p, io) {
    expectPositionals(p, 0, 1, 'leases', '[<mount>[/<role>]]');
    const format = outputFormat(p, ['table', 'json'] as const, 'table', 'leases');
    const broker = brokerFromFlags(p, io.env);
    const leases = p.positionals[0] ? await listUnder(broker, parseMountPrefix(p.positionals[0], 'leases')) : await listEverywhere(broker);
    if (format === 'json') {
      io.out(`${JSON.stringify(leases, null, 2)}\n`);
      return 0;
    }
    const now = Date.now();
    const rows = leases.map((l) => [
      l.id,
      l.role,
      l.namespace,
      l.service_account_name,
      l.issue_time.replace(/\.\d{3}Z$/, 'Z'),
      humanDuration((Date.parse(l.expire_time) - now) / 1000),
      l.caller,
    ]);
    io.out(table(['LEASE ID', 'ROLE', 'NAMESPACE', 'SERVICE ACCOUNT', 'ISSUED', 'EXPIRES IN', 'HOLDER'], rows, styleFor({ isTTY: io.stdoutIsTTY }).bold));
    return 0;
  },
};

export async function listUnder(broker: Broker, prefix: { mount: string; role?: string | undefined }): Promise<LeaseInfo[]> {
  const { keys, key_info } = await broker.leases(prefix.mount, prefix.role);
  return keys.map((k) => key_info[k]).filter((l): l is LeaseInfo => l !== undefined);
}

async function listEverywhere(broker: Broker): Promise<LeaseInfo[]> {
  let mounts: string[];
  try {
    mounts = (await broker.call<{ keys?: string[] }>('GET', '/v1/mounts?list=true'))?.data.keys ?? [];
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) throw new CliError('only admins may list every mount', 1, 'name the mount: kubelease leases <mount>');
    throw e;
  }
  const all: LeaseInfo[] = [];
  for (const mount of mounts) all.push(...(await listUnder(broker, { mount })));
  return all;
}
