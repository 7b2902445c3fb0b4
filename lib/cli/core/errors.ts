/**
 * How the CLI fails: one line on stderr (`kubelease: <cause>; fix: <what to do>`), exit 1 for a
 * failure, 2 for a usage error. Built-ins only: the exec plugin's cache-hit path imports this.
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
    /** what the user can do about it, appended as `; fix: …` */
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string, command = ''): CliError =>
  new CliError(message, EXIT_USAGE, `see kubelease ${command ? `${command} ` : ''}--help`);

/** The single stderr line for any thrown value; never multi-line (multi-line causes are joined). */
export function errorLine(err: unknown): string {
  if (err instanceof CliError) return oneLine(`kubelease: ${err.message}${err.fix ? `; fix: ${err.fix}` : ''}`);
  const m = (err as { message?: unknown } | undefined)?.message;
  const msg = typeof m === 'string' ? m : String(err);
  return oneLine(`kubelease: unexpected error: ${msg}`);
}

export const exitCodeOf = (err: unknown): number => (err instanceof CliError ? err.exitCode : EXIT_FAILURE);

export const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
