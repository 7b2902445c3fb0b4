/**
 * Request bodies the way `vault write` takes them: `key=value` pairs (`key=@file` reads a file,
 * a repeated key becomes a list) and/or JSON or YAML files (`-` = stdin); pairs win over files.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CliError, usageError } from './errors.js';

const PAIR = /^([A-Za-z_][\w.-]*)=([\s\S]*)$/;

function readSource(file: string, what: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file === '-' ? 'from stdin' : file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 1, 'check the path');
  }
}

export function parseBodyFile(text: string, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = parse(text);
  } catch (e) {
    throw new CliError(`${file} is neither JSON nor YAML (${(e as Error).message.split('\n')[0]})`, 1, 'fix the file');
  }
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new CliError(`${file} must hold a mapping of field names to values`, 1, 'write it as {"field": value} or field: value');
  return v as Record<string, unknown>;
}

export function bodyFromArgs(args: string[], command: string, read: (file: string, what: string) => string = readSource): Record<string, unknown> {
  const fromFiles: Record<string, unknown> = {};
  const pairs: Record<string, unknown> = {};
  for (const arg of args) {
    const m = PAIR.exec(arg);
    if (!m) {
      if (arg.includes('=')) throw usageError(`"${arg}" is not key=value (keys are letters, digits, "_", "-", ".")`, command);
      Object.assign(fromFiles, parseBodyFile(read(arg, 'file'), arg === '-' ? 'stdin' : arg));
      continue;
    }
    const key = m[1]!;
    const raw = m[2]!;
    const value = raw.startsWith('@') ? read(raw.slice(1), `the value of ${key} from`) : raw;
    const prev = pairs[key];
    pairs[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return { ...fromFiles, ...pairs };
}
