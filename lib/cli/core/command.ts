/**
 * Commands and their flags, parsed with node:util parseArgs (strict: unknown flags and missing
 * values are usage errors, exit 2). Every command has a `--help` with at least one example.
 */
import { parseArgs } from 'node:util';
import { usageError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** placeholder shown in help, e.g. NS */
  arg?: string;
  help: string;
}

export type Options = Record<string, OptionSpec>;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  stdoutIsTTY: boolean;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** arguments after `--` (the agent's child command) */
  rest: string[];
}

export interface Command {
  /** `creds`, or `roles write` for subcommands */
  name: string;
  summary: string;
  /** argument synopsis after the command name, e.g. `<mount>/<role> [flags]` */
  synopsis: string;
  description?: string;
  options: Options;
  examples: string[];
  run(parsed: Parsed, io: Io): Promise<number>;
}

export const HELP_OPTION: Options = { help: { type: 'boolean', short: 'h', help: 'show this help' } };

/** Flags of every command that talks to the broker. */
export const API_OPTIONS: Options = {
  addr: { type: 'string', arg: 'URL', help: 'broker address (default $KUBELEASE_ADDR), e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod' },
  region: { type: 'string', arg: 'REGION', help: 'SigV4 signing region (default $AWS_REGION, else from an execute-api host)' },
  profile: { type: 'string', arg: 'NAME', help: 'AWS profile (default $AWS_PROFILE, else the default credential chain)' },
};

/** `-o table|json` of the listing and reading commands. */
export const TABLE_JSON_OUTPUT: Options = { output: { type: 'string', short: 'o', arg: 'FORMAT', help: 'table (default) or json' } };

export function parseCommand(cmd: Pick<Command, 'name' | 'options'>, argv: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries({ ...cmd.options, ...HELP_OPTION })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  // kubectl users write -o=json: parseArgs would read that as the value "=json"
  const end = argv.indexOf('--');
  const args = argv.flatMap((a, i) => ((end < 0 || i < end) && /^-[A-Za-z]=/.test(a) ? [a.slice(0, 2), a.slice(3)] : [a]));
  let result;
  try {
    result = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw usageError(parseErrorMessage(e), cmd.name);
  }
  const terminator = result.tokens.find((t) => t.kind === 'option-terminator');
  const positionals: string[] = [];
  const rest: string[] = [];
  for (const t of result.tokens) {
    if (t.kind !== 'positional') continue;
    (terminator && t.index > terminator.index ? rest : positionals).push(t.value);
  }
  return { values: result.values as Parsed['values'], positionals, rest };
}

/** parseArgs messages mention internals ("To specify a positional argument starting with a '-'…"): keep the first sentence. */
function parseErrorMessage(e: unknown): string {
  const m = (e as { message?: unknown } | undefined)?.message;
  const msg = typeof m === 'string' ? m : String(e);
  return msg.split(/\.\s/)[0]!.replace(/\.$/, '');
}

export const str = (p: Parsed, name: string): string | undefined => {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
};
export const bool = (p: Parsed, name: string): boolean => p.values[name] === true;

/** `--output` value checked against the formats a command supports. */
export function outputFormat<T extends string>(p: Parsed, formats: readonly T[], fallback: T, command: string): T {
  const v = str(p, 'output') ?? fallback;
  if (!(formats as readonly string[]).includes(v)) throw usageError(`-o ${v}: choose one of ${formats.join(', ')}`, command);
  return v as T;
}

export function helpText(cmd: Command): string {
  const flags = Object.entries({ ...cmd.options, ...HELP_OPTION }).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    return `  ${left.padEnd(34)} ${o.help}${o.multiple ? ' (repeatable)' : ''}`;
  });
  return [
    `usage: kubelease ${cmd.name} ${cmd.synopsis}`.trimEnd(),
    '',
    cmd.summary,
    ...(cmd.description ? ['', cmd.description] : []),
    '',
    'Flags:',
    ...flags,
    '',
    cmd.examples.length > 1 ? 'Examples:' : 'Example:',
    ...cmd.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** Positionals a command expects: too many or too few is a usage error. */
export function expectPositionals(p: Parsed, min: number, max: number, command: string, what: string): void {
  if (p.positionals.length < min) throw usageError(`missing ${what}`, command);
  if (p.positionals.length > max) throw usageError(`unexpected argument "${p.positionals[max]}"`, command);
}
