/**
 * The one parse of a request target that the local server's SigV4 check, its routing and the
 * event it builds all use, so that what was signed is what is served.
 *
 * SigV4 signers normalise the path (drop "." and empty segments, resolve ".."); a router that
 * did not would serve one path under another's signature (`/roles/.` signed as `/roles`). So
 * such segments are refused here rather than normalised: every accepted path is its own
 * canonical form. The query is read as SigV4 canonicalises it and API Gateway passes it on:
 * `%XX` decoded, "+" a literal plus.
 */
export interface RequestTarget {
  /** the path as on the wire (percent-encoded), without the query */
  rawPath: string;
  /** decoded path segments, without the leading empty one */
  segments: string[];
  rawQuery: string;
  /** decoded query; a repeated key keeps every value, in order */
  query: Record<string, string[]>;
}

export class BadRequestTarget extends Error {}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BadRequestTarget(`${what}: invalid percent-encoding in ${JSON.stringify(part.slice(0, 80))}`);
  }
}

/** Problems of a raw path that a SigV4 signer would normalise away; undefined when there are none. */
export function pathProblem(rawPath: string): string | undefined {
  if (!rawPath.startsWith('/')) return 'path: must start with "/"';
  if (rawPath === '/') return undefined;
  const parts = rawPath.slice(1).split('/');
  if (parts.some((p) => p === '')) return 'path: empty segments ("//" or a trailing "/") are not allowed';
  for (const p of parts) {
    let d: string;
    try {
      d = decodeURIComponent(p);
    } catch {
      return `path: invalid percent-encoding in ${JSON.stringify(p.slice(0, 80))}`;
    }
    if (d === '.' || d === '..') return 'path: "." and ".." segments are not allowed';
    if (d.includes('/')) return 'path: a segment may not contain an encoded "/"';
  }
  return undefined;
}

/** `a=1&a=2&b=x+y` → { a: ['1', '2'], b: ['x+y'] }; "+" stays "+". Throws BadRequestTarget on bad encoding. */
export function parseQueryString(raw: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decode(eq < 0 ? part : part.slice(0, eq), 'query');
    const v = eq < 0 ? '' : decode(part.slice(eq + 1), 'query');
    (out[k] ??= []).push(v);
  }
  return out;
}

/** Parses `/path?query` from the request line. Throws BadRequestTarget naming the problem. */
export function parseRequestTarget(url: string): RequestTarget {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const problem = pathProblem(rawPath);
  if (problem) throw new BadRequestTarget(problem);
  const segments = rawPath === '/' ? [] : rawPath.slice(1).split('/').map((p) => decodeURIComponent(p));
  return { rawPath, segments, rawQuery, query: parseQueryString(rawQuery) };
}
