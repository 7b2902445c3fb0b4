/**
 * Sees everything the broker says during a reliability test file, and checks none of it holds a
 * secret: every line written to stdout/stderr in the test process (Powertools log lines with the
 * audit records, EMF metric blobs with their dimensions, the local stack's request log), every
 * line of the child processes the harness starts, and every error body a harness call received.
 *
 * Secrets are known values (the broker's stored JWT, every token a creds call returned, the
 * local and bed AWS secret keys and session tokens) plus shapes (JWTs, EKS tokens), so a token
 * the harness never saw still counts. `installCollector()` runs once per file (setup file).
 */
import { loadBed } from '../bed.js';

interface Source {
  lines: number;
  bytes: number;
}

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
const EKS_TOKEN_SHAPE = /k8s-aws-v1\.[A-Za-z0-9_-]{20,}/;

export class Collector {
  private readonly secrets = new Map<string, string>();
  private readonly sources = new Map<string, Source>();
  readonly hits: string[] = [];
  auditRecords = 0;
  metricDimensions = 0;
  errorBodies = 0;
  private installed = false;
  private passThrough: ((chunk: string) => boolean) | undefined;

  /** A value that must never be seen (ignored when shorter than 8 characters). */
  secret(value: string | undefined, label: string): void {
    if (value && value.length >= 8) this.secrets.set(value, label);
  }

  get lines(): number {
    return [...this.sources.values()].reduce((n, s) => n + s.lines, 0);
  }

  get bytes(): number {
    return [...this.sources.values()].reduce((n, s) => n + s.bytes, 0);
  }

  get secretCount(): number {
    return this.secrets.size;
  }

  /** Scans one piece of output, line by line, from `source` (e.g. `stdout`, `child`, `error-body`). */
  see(source: string, text: string): void {
    const s = this.sources.get(source) ?? { lines: 0, bytes: 0 };
    this.sources.set(source, s);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      s.lines++;
      s.bytes += line.length;
      this.account(line);
      this.scan(source, line);
    }
  }

  /**
   * Values are checked as lines arrive: the known values are registered before anything can print
   * them (bed and local credentials at install), and issued tokens are JWTs, caught by their shape.
   */
  private readonly last: string[] = [];

  /** the last `n` lines seen (any source), oldest first */
  recent(n: number): string[] {
    return this.last.slice(-n);
  }

  private scan(source: string, line: string): void {
    this.last.push(line.length > 2000 ? line.slice(0, 2000) : line);
    if (this.last.length > 500) this.last.splice(0, this.last.length - 500);
    for (const [value, label] of this.secrets) if (line.includes(value)) this.hits.push(`${source}: ${label}: ${redacted(line)}`);
    if (JWT_SHAPE.test(line)) this.hits.push(`${source}: JWT-shaped string: ${redacted(line)}`);
    if (EKS_TOKEN_SHAPE.test(line)) this.hits.push(`${source}: EKS token: ${redacted(line)}`);
  }

  private account(line: string): void {
    if (!line.startsWith('{')) return;
    try {
      const o = JSON.parse(line) as { type?: string; _aws?: { CloudWatchMetrics?: { Dimensions?: string[][] }[] } };
      if (o.type === 'audit') this.auditRecords++;
      for (const m of o._aws?.CloudWatchMetrics ?? []) this.metricDimensions += (m.Dimensions ?? []).flat().length;
    } catch {
      // not JSON after all
    }
  }

  errorBody(status: number, body: string): void {
    this.errorBodies++;
    this.see(`error-body ${status}`, body);
  }

  /** Captures process.stdout/stderr writes; JSON lines (the handlers' logs) are kept off the terminal. */
  install(): void {
    if (this.installed) return;
    this.installed = true;
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
      const name = stream === process.stdout ? 'stdout' : 'stderr';
      if (stream === process.stderr) this.passThrough = (c) => write(c);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        this.see(name, text);
        return text.startsWith('{') ? true : write(chunk, ...rest);
      }) as typeof stream.write;
    }
    const bed = loadBed();
    this.secret(bed.broker.token, 'the broker ServiceAccount JWT (stored in config)');
    this.secret(bed.eks.credentials.secretAccessKey, "the broker's AWS secret key");
    this.secret(bed.eks.credentials.sessionToken, "the broker's AWS session token");
    this.secret(bed.admin.clientKeyPem.split('\n')[1], 'the bed admin key');
  }

  /** Writes to the real stderr (not collected) */
  say(line: string): void {
    (this.passThrough ?? ((c: string) => process.stderr.write(c)))(`${line}\n`);
  }
}

/** Shows where a hit was without printing the secret again. */
function redacted(line: string): string {
  return line.slice(0, 120).replace(/[A-Za-z0-9_+/=-]{16,}/g, '<…>');
}

export const collector = new Collector();
