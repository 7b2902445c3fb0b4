import { API_OPTIONS, TABLE_JSON_OUTPUT, bool, expectPositionals, outputFormat, str, type Command } from '../core/command.js';
import { bodyFromArgs } from '../core/body.js';
import { CliError, usageError } from '../core/errors.js';
import { parseMountPrefix, parseTarget } from '../core/target.js';
import { enc } from '../client/broker.js';
import { brokerFromFlags } from '../client/from-flags.js';
import { printData, printKeys, printWarnings } from './print.js';

const rolePath = (arg: string | undefined, command: string) => {
  const { mount, role } = parseTarget(arg, command);
  return { mount, role, path: `/v1/${enc(mount)}/roles/${enc(role)}` };
};

export const rolesList: Command = {
  name: 'roles list',
  summary: 'List the roles of a mount (admins: all; others: the roles they may use).',
  synopsis: '<mount> [-o table|json]',
  options: { ...TABLE_JSON_OUTPUT, ...API_OPTIONS },
  examples: ['kubelease roles list prod'],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'roles list', '<mount>');
    const format = outputFormat(p, ['table', 'json'] as const, 'table', 'roles list');
    const { mount, role } = parseMountPrefix(p.positionals[0]!, 'roles list');
    if (role) throw usageError(`"${p.positionals[0]}" is a role path; give just the mount`, 'roles list');
    const res = await brokerFromFlags(p, io.env).call<{ keys?: string[] }>('GET', `/v1/${enc(mount)}/roles?list=true`);
    printKeys(io, res?.data.keys ?? [], format);
    return 0;
  },
};

export const rolesRead: Command = {
  name: 'roles read',
  summary: 'Read a role (admin).',
  synopsis: '<mount>/<role> [-o table|json]',
  options: { ...TABLE_JSON_OUTPUT, ...API_OPTIONS },
  examples: ['kubelease roles read prod/deploy -o json'],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'roles read', '<mount>/<role>');
    const format = outputFormat(p, ['table', 'json'] as const, 'table', 'roles read');
    const res = await brokerFromFlags(p, io.env).call('GET', rolePath(p.positionals[0], 'roles read').path);
    printData(io, res?.data, format);
    return 0;
  },
};

export const rolesWrite: Command = {
  name: 'roles write',
  summary: 'Create or update a role (admin); unset fields keep their value. Fields as in docs/roles.md.',
  synopsis: '<mount>/<role> [FILE.json|FILE.yaml|-] [key=value|key=@file ...]',
  options: { ...API_OPTIONS },
  examples: [
    'kubelease roles write prod/deploy allowed_kubernetes_namespaces=apps kubernetes_role_name=edit kubernetes_role_type=ClusterRole token_max_ttl=2h allowed_principals="arn:aws:iam::123456789012:role/ci-*"',
    'kubelease roles write prod/deploy deploy-role.yaml',
  ],
  async run(p, io) {
    expectPositionals(p, 2, Infinity, 'roles write', '<mount>/<role> and a file or key=value pairs');
    const r = rolePath(p.positionals[0], 'roles write');
    const res = await brokerFromFlags(p, io.env).call('POST', r.path, bodyFromArgs(p.positionals.slice(1), 'roles write'));
    printWarnings(io, res?.warnings);
    io.out(`wrote role ${r.mount}/${r.role}\n`);
    return 0;
  },
};

export const rolesDelete: Command = {
  name: 'roles delete',
  summary: 'Delete a role (admin).',
  synopsis: '<mount>/<role>',
  options: { ...API_OPTIONS },
  examples: ['kubelease roles delete prod/old-deploy'],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'roles delete', '<mount>/<role>');
    const r = rolePath(p.positionals[0], 'roles delete');
    await brokerFromFlags(p, io.env).call('DELETE', r.path);
    io.out(`deleted role ${r.mount}/${r.role}\n`);
    return 0;
  },
};

interface RoleCheck {
  namespace: string;
  ok: boolean;
  missing: string[];
}

export const rolesCheck: Command = {
  name: 'roles check',
  summary: 'Dry run (admin): can the broker create what this role needs? Exit 1 when something is missing.',
  synopsis: '<mount>/<role> [-n NS] [--cluster-role-binding] [-o table|json]',
  options: {
    namespace: { type: 'string', short: 'n', arg: 'NS', help: 'namespace to check (default: the role\'s first)' },
    'cluster-role-binding': { type: 'boolean', help: 'check a cluster-wide binding' },
    ...TABLE_JSON_OUTPUT,
    ...API_OPTIONS,
  },
  examples: ['kubelease roles check prod/deploy -n apps'],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'roles check', '<mount>/<role>');
    const format = outputFormat(p, ['table', 'json'] as const, 'table', 'roles check');
    const r = rolePath(p.positionals[0], 'roles check');
    const body = { ...(str(p, 'namespace') ? { kubernetes_namespace: str(p, 'namespace') } : {}), ...(bool(p, 'cluster-role-binding') ? { cluster_role_binding: true } : {}) };
    const res = await brokerFromFlags(p, io.env).call<RoleCheck>('POST', `${r.path}/check`, body);
    const check = res?.data;
    if (!check) throw new CliError('the broker answered the check without data', 1, 'check that --addr points at a kubelease broker');
    if (format === 'json') io.out(`${JSON.stringify(check, null, 2)}\n`);
    else io.out(check.ok ? `ok: the broker can issue ${r.mount}/${r.role} in namespace ${check.namespace}\n` : check.missing.map((m) => `missing: ${m}\n`).join(''));
    if (!check.ok) throw new CliError(`the broker cannot issue ${r.mount}/${r.role} in namespace ${check.namespace}: ${check.missing.length} permission(s) missing`, 1, 'grant them (deploy/kubernetes/broker-rbac.yaml) and check again');
    return 0;
  },
};
