import { API_OPTIONS, TABLE_JSON_OUTPUT, bool, expectPositionals, outputFormat, type Command } from '../core/command.js';
import { bodyFromArgs } from '../core/body.js';
import { usageError } from '../core/errors.js';
import { parseMountPrefix } from '../core/target.js';
import { enc } from '../client/broker.js';
import { brokerFromFlags } from '../client/from-flags.js';
import { printData, printKeys, printWarnings } from './print.js';


function mountArg(positional: string | undefined, command: string): string {
  if (!positional) throw usageError('missing <mount>', command);
  const m = parseMountPrefix(positional, command);
  if (m.role) throw usageError(`"${positional}" is a role path; give just the mount`, command);
  return m.mount;
}

export const configRead: Command = {
  name: 'config read',
  summary: 'Read a mount\'s cluster connection (admin; service_account_jwt is never returned).',
  synopsis: '<mount> [-o table|json]',
  options: { ...TABLE_JSON_OUTPUT, ...API_OPTIONS },
  examples: ['kubelease config read prod'],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'config read', '<mount>');
    const format = outputFormat(p, ['table', 'json'] as const, 'table', 'config read');
    const res = await brokerFromFlags(p, io.env).call('GET', `/v1/${enc(mountArg(p.positionals[0], 'config read'))}/config`);
    printData(io, res?.data, format);
    return 0;
  },
};

export const configWrite: Command = {
  name: 'config write',
  summary: 'Create or update a mount\'s cluster connection (admin); unset fields keep their value.',
  synopsis: '<mount> [FILE.json|FILE.yaml|-] [key=value|key=@file ...]',
  options: { ...API_OPTIONS },
  examples: [
    'kubelease config write prod kubernetes_host=https://api.prod.example:6443 kubernetes_ca_cert=@ca.pem eks_cluster_name=prod eks_region=eu-west-1',
    'kubelease config write prod prod-config.yaml',
  ],
  async run(p, io) {
    expectPositionals(p, 2, Infinity, 'config write', '<mount> and a file or key=value pairs');
    const mount = mountArg(p.positionals[0], 'config write');
    const res = await brokerFromFlags(p, io.env).call('POST', `/v1/${enc(mount)}/config`, bodyFromArgs(p.positionals.slice(1), 'config write'));
    printWarnings(io, res?.warnings);
    io.out(`wrote config of ${mount}\n`);
    return 0;
  },
};

export const configDelete: Command = {
  name: 'config delete',
  summary: 'Delete a mount and its roles (admin). Refused while leases live, unless --force revokes them first.',
  synopsis: '<mount> [--force]',
  options: { force: { type: 'boolean', help: 'revoke live leases first' }, ...API_OPTIONS },
  examples: ['kubelease config delete staging --force'],
  async run(p, io) {
    expectPositionals(p, 1, 1, 'config delete', '<mount>');
    const mount = mountArg(p.positionals[0], 'config delete');
    const res = await brokerFromFlags(p, io.env).call('DELETE', `/v1/${enc(mount)}/config${bool(p, 'force') ? '?force=true' : ''}`);
    printWarnings(io, res?.warnings);
    io.out(`deleted config of ${mount}\n`);
    return 0;
  },
};

export const configList: Command = {
  name: 'config list',
  summary: 'List configured mounts (admin).',
  synopsis: '[-o table|json]',
  options: { ...TABLE_JSON_OUTPUT, ...API_OPTIONS },
  examples: ['kubelease config list'],
  async run(p, io) {
    expectPositionals(p, 0, 0, 'config list', 'nothing');
    const format = outputFormat(p, ['table', 'json'] as const, 'table', 'config list');
    const res = await brokerFromFlags(p, io.env).call<{ keys?: string[] }>('GET', '/v1/mounts?list=true');
    printKeys(io, res?.data.keys ?? [], format);
    return 0;
  },
};
