import { API_OPTIONS, expectPositionals, str, type Command } from '../core/command.js';
import { CliError, errorLine, usageError } from '../core/errors.js';
import { parseMountPrefix } from '../core/target.js';
import { brokerFromFlags } from '../client/from-flags.js';
import { listUnder } from './leases.js';

export const revokeCommand: Command = {
  name: 'revoke',
  summary: 'Revoke a lease now (its objects are deleted, its token dies within seconds), or with --prefix every lease under <mount>[/<role>] that you may revoke (vault lease revoke -prefix).',
  synopsis: '<lease_id> | --prefix <mount>[/<role>]',
  options: {
    prefix: { type: 'string', arg: 'MOUNT[/ROLE]', help: 'revoke every lease you can see under this mount or role' },
    ...API_OPTIONS,
  },
  examples: ['kubelease revoke prod/creds/deploy/kTq2XH0m6yqB1Hh3r0ZfJbAe', 'kubelease revoke --prefix prod/deploy'],
  async run(p, io) {
    const prefix = str(p, 'prefix');
    if (prefix === undefined) {
      expectPositionals(p, 1, 1, 'revoke', '<lease_id> (or --prefix <mount>[/<role>])');
      await brokerFromFlags(p, io.env).revoke(p.positionals[0]!);
      io.out(`revoked ${p.positionals[0]}\n`);
      return 0;
    }
    if (p.positionals.length > 0) throw usageError('give a lease id or --prefix, not both', 'revoke');
    const target = parseMountPrefix(prefix, 'revoke');
    const broker = brokerFromFlags(p, io.env);
    const leases = await listUnder(broker, target);
    let failed = 0;
    for (const l of leases) {
      try {
        await broker.revoke(l.id);
        io.out(`revoked ${l.id}\n`);
      } catch (e) {
        failed++;
        io.err(`${errorLine(e)}\n`);
      }
    }
    if (failed) throw new CliError(`${failed} of ${leases.length} lease(s) under ${prefix} could not be revoked`, 1, 'see the lines above; run the command again to retry');
    if (leases.length === 0) io.out(`no leases under ${prefix} that you may revoke\n`);
    return 0;
  },
};
