/**
 * Terminal styling: ANSI only when the stream is a TTY and neither NO_COLOR nor TERM=dumb asks
 * otherwise (https://no-color.org), so pipes, files and CI logs get plain text.
 */
export interface StyleStream {
  isTTY?: boolean;
}

export function colourEnabled(stream: StyleStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!stream.isTTY) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

export interface Style {
  bold(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
}

const wrap = (on: boolean, open: string, close: string) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);

export function styleFor(stream: StyleStream, env: NodeJS.ProcessEnv = process.env): Style {
  const on = colourEnabled(stream, env);
  return { bold: wrap(on, '1', '22'), yellow: wrap(on, '33', '39'), red: wrap(on, '31', '39') };
}

/** `kubelease: warning: …` on stderr, one line. */
export function warn(message: string, stream: NodeJS.WriteStream = process.stderr): void {
  const s = styleFor(stream);
  stream.write(`kubelease: ${s.yellow('warning')}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
}
