import { API_OPTIONS, TABLE_JSON_OUTPUT, expectPositionals, outputFormat, type Command } from '../core/command.js';
import { humanDuration, keyValues } from '../core/format.js';
import { styleFor } from '../core/style.js';
import { brokerFromFlags } from '../client/from-flags.js';

export const lookupCommand: Command = {
  name: 'lookup',
  summary: 'Show one lease (what `vault lease lookup` does): expiry, role, namespace, ServiceAccount, holder.',
  synopsis: '<lease_id> [-o table|json]',
  options: { ...TABLE_JSON_OUTPUT, ...API_OPTIONS },
  examples: ['kubelease lookup prod/creds/deploy/kTq2XH0m6yqB1Hh3r0ZfJbAe'],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'lookup', '<lease_id>');
    const format = outputFormat(p, ['table', 'json'] as const, 'table', 'lookup');
    const lease = await brokerFromFlags(p, io.env).lookup(p.positionals[0]!);
    if (format === 'json') {
      io.out(`${JSON.stringify(lease, null, 2)}\n`);
      return 0;
    }
    io.out(
      keyValues(
        [
          ['id', lease.id],
          ['role', lease.role],
          ['namespace', lease.namespace],
          ['service_account_name', lease.service_account_name],
          ['issue_time', lease.issue_time],
          ['expire_time', lease.expire_time],
          ['ttl', humanDuration(lease.ttl)],
          ['holder', lease.caller],
          ['status', lease.status],
        ],
        styleFor({ isTTY: io.stdoutIsTTY }).bold,
      ),
    );
    return 0;
  },
};
