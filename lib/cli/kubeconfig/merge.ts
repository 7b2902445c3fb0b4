/**
 * `--merge`: adds or replaces one cluster, user and context in a kubeconfig file and makes the
 * context current, keeping everything else (comments included); written atomically, 0600.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Document, isMap, isSeq, parseDocument } from 'yaml';
import { writeFileAtomic } from '../core/atomic.js';
import { CliError } from '../core/errors.js';
import { entries, type KubeconfigParts } from './render.js';

/** `--kubeconfig`, else the first file of $KUBECONFIG (as `aws eks update-kubeconfig`), else ~/.kube/config. */
export function kubeconfigTarget(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return path.resolve(flag);
  const first = (env.KUBECONFIG ?? '').split(path.delimiter).find((p) => p.trim() !== '');
  if (first) return path.resolve(first);
  return path.join(env.HOME || os.homedir(), '.kube', 'config');
}

export function mergeKubeconfigText(existing: string | undefined, parts: KubeconfigParts, file = 'kubeconfig'): string {
  const doc = existing && existing.trim() !== '' ? parseDocument(existing) : new Document({ apiVersion: 'v1', kind: 'Config', preferences: {}, clusters: [], users: [], contexts: [] });
  if (doc.errors.length > 0) throw new CliError(`${file} is not valid YAML (${doc.errors[0]!.message.split('\n')[0]})`, 1, `fix or move ${file}, or pick another file with --kubeconfig`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new CliError(`${file} is not a kubeconfig (its top level is not a mapping)`, 1, `fix or move ${file}, or pick another file with --kubeconfig`);
  const e = entries(parts);
  for (const [key, entry] of [['clusters', e.cluster], ['users', e.user], ['contexts', e.context]] as const) {
    let seq = doc.get(key, true);
    if (!isSeq(seq)) {
      doc.set(key, doc.createNode([]));
      seq = doc.get(key, true);
    }
    if (!isSeq(seq)) throw new CliError(`${file}: ${key} is not a list`, 1, `fix ${file}`);
    const node = doc.createNode(entry);
    const at = seq.items.findIndex((item) => isMap(item) && item.get('name') === entry.name);
    if (at >= 0) seq.items[at] = node;
    else seq.items.push(node);
  }
  doc.set('current-context', parts.names.context);
  return doc.toString();
}

export function mergeIntoFile(file: string, parts: KubeconfigParts): void {
  // a symlinked ~/.kube/config stays a symlink: the file it points at is replaced
  const target = existsSync(file) ? realpathSync(file) : file;
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const existing = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
  writeFileAtomic(target, mergeKubeconfigText(existing, parts, file), 0o600);
}
