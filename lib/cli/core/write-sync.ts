import { writeSync } from 'node:fs';

/**
 * Writes all of `text` to a file descriptor synchronously. The exec plugin's cache hit answers
 * kubectl this way: touching process.stdout would set up Node's stream machinery (a dozen
 * internal modules) for one short write. A non-blocking pipe may refuse with EAGAIN: retry.
 */
export function writeAllSync(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let written = 0;
  while (written < buf.length) {
    try {
      written += writeSync(fd, buf, written);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
