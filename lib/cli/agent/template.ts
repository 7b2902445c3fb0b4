/**
 * Templates rendered on every refresh: `{{ .Token }}`-style variables (the Go template syntax
 * Vault Agent and consul-template use), nothing else. An unknown variable or any other `{{ … }}`
 * action is an error when the agent starts, not at the first refresh.
 */
import { CliError } from '../core/errors.js';
import type { Issued } from './types.js';

export const TEMPLATE_VARIABLES = ['Token', 'Server', 'CACert', 'CACertBase64', 'Namespace', 'ServiceAccount', 'LeaseID', 'Expiry', 'Name'] as const;
type Variable = (typeof TEMPLATE_VARIABLES)[number];

const ACTION = /\{\{\s*([\s\S]*?)\s*\}\}/g;

export function templateValues(name: string, i: Issued): Record<Variable, string> {
  return {
    Token: i.token,
    Server: i.server,
    CACert: i.caPem,
    CACertBase64: Buffer.from(i.caPem).toString('base64'),
    Namespace: i.namespace,
    ServiceAccount: i.serviceAccount,
    LeaseID: i.leaseId,
    Expiry: new Date(i.expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    Name: name,
  };
}

/** Throws naming the template and the offending action; returns the variables it uses. */
export function checkTemplate(text: string, source: string): Variable[] {
  const used: Variable[] = [];
  for (const m of text.matchAll(ACTION)) {
    const action = m[1]!;
    const v = /^\.([A-Za-z]\w*)$/.exec(action)?.[1];
    if (!v) throw new CliError(`template ${source}: "{{ ${action} }}" is not supported (only variables like {{ .Token }})`, 2, `use one of ${TEMPLATE_VARIABLES.map((x) => `.${x}`).join(', ')}`);
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(v)) throw new CliError(`template ${source}: unknown variable .${v}`, 2, `use one of ${TEMPLATE_VARIABLES.map((x) => `.${x}`).join(', ')}`);
    used.push(v as Variable);
  }
  return used;
}

export function renderTemplate(text: string, source: string, values: Record<Variable, string>): string {
  checkTemplate(text, source);
  return text.replace(ACTION, (_all, action: string) => values[action.slice(1) as Variable]);
}
