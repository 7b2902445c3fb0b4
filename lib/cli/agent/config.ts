/**
 * `agent.yaml` (Vault Agent style: credentials with sinks, templates and a local listener) and
 * the same shape built from flags. Validated with zod; errors name the field. Relative paths
 * are resolved against the config file's directory.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import * as z from 'zod';
import { CliError } from '../core/errors.js';
import { parseTarget } from '../core/target.js';
import { parseListenAddress } from './listen-address.js';
import type { AgentConfig, CredentialSpec, Sink } from './types.js';

const mode = z
  .string()
  .regex(/^0?[0-7]{3}$/, 'write the mode as a quoted octal string like "0600"')
  .transform((s) => parseInt(s, 8))
  .refine((m) => (m & 0o022) === 0, 'group/other may read but never write a token file');

const sink = z.discriminatedUnion('type', [
  z.object({ type: z.literal('file'), path: z.string().min(1), mode: mode.optional() }).strict(),
  z.object({ type: z.literal('kubeconfig'), path: z.string().min(1), mode: mode.optional(), context: z.string().min(1).optional() }).strict(),
]);

const template = z
  .object({
    source: z.string().min(1),
    destination: z.string().min(1),
    perms: mode.optional(),
    command: z.string().min(1).optional(),
  })
  .strict();

const credential = z
  .object({
    name: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, "_", "-", "." (at most 64)').optional(),
    role: z.string().min(1, 'required: <mount>/<role>'),
    namespace: z.string().min(1).optional(),
    ttl: z.union([z.string().min(1), z.number().int().positive()]).optional(),
    audiences: z.union([z.string(), z.array(z.string().min(1))]).optional(),
    cluster_role_binding: z.boolean().optional(),
    sinks: z.array(sink).default([]),
    templates: z.array(template).default([]),
    listener: z.object({ address: z.string().min(1) }).strict().optional(),
    exec_after: z.string().min(1).optional(),
  })
  .strict();

const agentFile = z
  .object({
    addr: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    profile: z.string().min(1).optional(),
    revoke_on_exit: z.boolean().default(false),
    exit_after_auth: z.boolean().default(false),
    credentials: z.array(credential).min(1, 'at least one credential'),
  })
  .strict();

const DEFAULT_MODE = 0o600;

function issuePath(p: PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('') || '(top level)';
}

export function parseAgentConfig(text: string, file: string): AgentConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new CliError(`${file} is not valid YAML (${(e as Error).message.split('\n')[0]})`, 2, 'fix the file');
  }
  const r = agentFile.safeParse(raw ?? {});
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`);
    throw new CliError(`${file}: ${msgs.join('; ')}`, 2, 'see docs/cli.md#agent-configuration');
  }
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(dir, p);
  const names = new Set<string>();
  const credentials = r.data.credentials.map((c, i): CredentialSpec => {
    const field = `credentials[${i}]`;
    let target;
    try {
      target = parseTarget(c.role, 'agent');
    } catch (e) {
      throw new CliError(`${file}: ${field}.role: ${(e as Error).message}`, 2, 'write it as <mount>/<role>');
    }
    const { mount, role } = target;
    const name = c.name ?? `${mount}-${role}`;
    if (names.has(name)) throw new CliError(`${file}: ${field}.name: "${name}" is used twice`, 2, 'give each credential its own name');
    names.add(name);
    const sinks: Sink[] = c.sinks.map((s) => (s.type === 'file' ? { type: 'file', path: abs(s.path), mode: s.mode ?? DEFAULT_MODE } : { type: 'kubeconfig', path: abs(s.path), mode: s.mode ?? DEFAULT_MODE, context: s.context }));
    return {
      name,
      mount,
      role,
      namespace: c.namespace,
      ttl: c.ttl === undefined ? undefined : String(c.ttl),
      audiences: Array.isArray(c.audiences) ? c.audiences.join(',') : c.audiences,
      clusterRoleBinding: c.cluster_role_binding ?? false,
      sinks,
      templates: c.templates.map((t) => ({ source: abs(t.source), destination: abs(t.destination), mode: t.perms ?? DEFAULT_MODE, command: t.command })),
      listener: c.listener ? parseListenAddress(c.listener.address, `${file}: ${field}.listener.address`) : undefined,
      execAfter: c.exec_after,
    };
  });
  return { addr: r.data.addr, region: r.data.region, profile: r.data.profile, revokeOnExit: r.data.revoke_on_exit, exitAfterAuth: r.data.exit_after_auth, credentials };
}

export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 2, 'check the --config path');
  }
  return parseAgentConfig(text, file);
}
