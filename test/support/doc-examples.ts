/** The role examples of docs/roles.md: every ```json block under an "Example:" heading. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface DocExample {
  heading: string;
  json: string;
}

export function exampleBlocks(markdown: string): DocExample[] {
  const out: DocExample[] = [];
  let heading = '';
  let inBlock: 'json' | 'other' | undefined;
  let buf: string[] = [];
  for (const line of markdown.split('\n')) {
    const fence = /^```(\w*)\s*$/.exec(line);
    if (inBlock === undefined && fence) {
      inBlock = fence[1] === 'json' ? 'json' : 'other';
      buf = [];
    } else if (inBlock !== undefined && /^```\s*$/.test(line)) {
      if (inBlock === 'json' && /^#+\s*Example:/.test(heading)) out.push({ heading, json: buf.join('\n') });
      inBlock = undefined;
    } else if (inBlock !== undefined) {
      buf.push(line);
    } else if (/^#+\s/.test(line)) {
      heading = line;
    }
  }
  return out;
}

export function roleExamples(): DocExample[] {
  return exampleBlocks(readFileSync(fileURLToPath(new URL('../../docs/roles.md', import.meta.url)), 'utf8'));
}
