/**
 * Puts a fresh token where it is consumed: file sinks (atomic, with their mode), kubeconfig
 * sinks (pointing at the first file sink with `tokenFile:`, else carrying the token), templates
 * (re-rendered, then their command), then `exec_after`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../core/atomic.js';
import { CliError } from '../core/errors.js';
import { kubeconfigNames, renderKubeconfig } from '../kubeconfig/render.js';
import { checkTemplate, renderTemplate, templateValues } from './template.js';
import type { CredentialSpec, Issued } from './types.js';

export interface DeliverDeps {
  log(line: string): void;
  run(command: string, label: string): Promise<void>;
}

function readTemplate(source: string): string {
  try {
    return readFileSync(source, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read template ${source} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 2, 'check the template source path');
  }
}

/** Checks every template once at startup (fail before the first issuance, not after). */
export function checkTemplates(spec: CredentialSpec): void {
  for (const t of spec.templates) checkTemplate(readTemplate(t.source), t.source);
}

function write(file: string, data: string, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, data, mode);
}

export function kubeconfigFor(spec: CredentialSpec, i: Issued, context?: string): string {
  const tokenFile = spec.sinks.find((s) => s.type === 'file')?.path;
  return stringify(
    renderKubeconfig({
      names: kubeconfigNames(spec.mount, spec.role, spec.namespace, context),
      cluster: { server: i.server, caPem: i.caPem },
      auth: tokenFile ? { tokenFile } : { token: i.token },
      namespace: i.namespace,
    }),
  );
}

export function makeDelivery(spec: CredentialSpec, deps: DeliverDeps): (i: Issued) => Promise<void> {
  return async (i) => {
    for (const s of spec.sinks.filter((x) => x.type === 'file')) write(s.path, i.token, s.mode);
    for (const s of spec.sinks) if (s.type === 'kubeconfig') write(s.path, kubeconfigFor(spec, i, s.context), s.mode);
    const values = templateValues(spec.name, i);
    for (const t of spec.templates) {
      write(t.destination, renderTemplate(readTemplate(t.source), t.source, values), t.mode);
      if (t.command) await deps.run(t.command, `template ${t.destination} command`);
    }
    if (spec.execAfter) await deps.run(spec.execAfter, 'exec-after');
  };
}
