/**
 * An esbuild plugin that bundles only the parts of @kubernetes/client-node's generated code the
 * Lambdas call (issue 13). esbuild cannot tree-shake class methods, and the generated serializer
 * registers every model: the three API groups the adapter imports and the models they reach are
 * ~790 KB of a 1.6 MB creds bundle, for 27 calls. So, while bundling:
 * - in each generated API file named in GENERATED_CALLS, the request factory and the response
 *   processor keep the methods listed there (`x` and `xWithHttpInfo`) and lose the others;
 * - ObjectSerializer registers, imports and re-exports only the models those methods name and
 *   every model their fields reach, transitively (a model left out would come back as plain JSON,
 *   its dates unparsed).
 * The source is client-node's own code, cut, never rewritten. A call listed but not found, or a
 * model not found, fails the build.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';
import type ts from 'typescript';
import { GENERATED_CALLS } from '../lib/adapters/kubernetes/generated-calls.js';

/** generated API file (without `.js`) → the calls to keep */
type Calls = Readonly<Record<string, readonly string[]>>;
type TypeScript = typeof ts;

const GENERATED = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/](?:apis[\\/](\w+)|models[\\/](ObjectSerializer))\.js$/;
/** a model's field types, as the generated attributeTypeMap spells them */
const FIELD_TYPE = /"type": "([^"]+)"/g;
const TYPE_NAME = /[A-Z][A-Za-z0-9]*/g;

/** `text` without the class methods `drop` says to drop (each with its doc comment) */
function withoutMethods(ts: TypeScript, file: string, text: string, drop: (className: string, method: string) => boolean): string {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const cuts: { start: number; end: number }[] = [];
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement) || !statement.name) continue;
    for (const member of statement.members) {
      if (!ts.isMethodDeclaration(member) || !ts.isIdentifier(member.name)) continue;
      if (drop(statement.name.text, member.name.text)) cuts.push({ start: member.getFullStart(), end: member.getEnd() });
    }
  }
  let out = '';
  let from = 0;
  for (const cut of cuts) {
    out += text.slice(from, cut.start);
    from = cut.end;
  }
  return out + text.slice(from);
}

/** one generated API group cut to its listed calls; `models` collects the type names they mention */
function pruneGroup(ts: TypeScript, file: string, group: string, listed: readonly string[], models: Set<string>): string {
  const calls = new Set(listed);
  const kept = new Set<string>();
  const text = withoutMethods(ts, file, readFileSync(file, 'utf8'), (className, method) => {
    const call = className === `${group}ResponseProcessor` ? method.replace(/WithHttpInfo$/, '') : method;
    if (className !== `${group}RequestFactory` && className !== `${group}ResponseProcessor`) return false;
    if (!calls.has(call)) return true;
    kept.add(`${className}.${method}`);
    return false;
  });
  for (const call of calls) {
    for (const owner of [`${group}RequestFactory.${call}`, `${group}ResponseProcessor.${call}WithHttpInfo`]) {
      if (!kept.has(owner)) throw new Error(`prune-client-node: ${owner} is listed in GENERATED_CALLS but not in ${file}`);
    }
  }
  for (const [, name] of text.matchAll(/"([A-Z][A-Za-z0-9]*)"/g)) models.add(name as string);
  return text;
}

/** the models `roots` name (those that exist) and every model their fields reach */
function modelClosure(modelsDir: string, roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const todo = [...roots];
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (seen.has(name)) continue;
    let text: string;
    try {
      text = readFileSync(join(modelsDir, `${name}.js`), 'utf8');
    } catch {
      continue; // not a model: a primitive, a group or kind name in a string
    }
    seen.add(name);
    for (const [, type] of text.matchAll(FIELD_TYPE)) todo.push(...((type as string).match(TYPE_NAME) ?? []));
  }
  return seen;
}

/** ObjectSerializer with only `keep` registered, imported and re-exported */
function pruneSerializer(file: string, keep: Set<string>): string {
  const found = new Set<string>();
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      const model =
        /^export \* from '\.\.\/models\/(\w+)\.js';$/.exec(line)?.[1] ??
        /^import \{ (\w+) \} from '\.\.\/models\/\w+\.js';$/.exec(line)?.[1] ??
        /^ {4}"(\w+)": (\w+),?$/.exec(line)?.[2];
      if (model === undefined) return true;
      if (!keep.has(model)) return false;
      found.add(model);
      return true;
    });
  const missing = [...keep].filter((m) => !found.has(m));
  if (missing.length > 0) throw new Error(`prune-client-node: ObjectSerializer does not register ${missing.join(', ')}`);
  return lines.join('\n');
}

export function pruneClientNode(calls: Calls = GENERATED_CALLS): Plugin {
  return {
    name: 'prune-client-node',
    setup(build) {
      let typescript: Promise<TypeScript> | undefined;
      // Every group is cut before the serializer is (the serializer needs their model names),
      // whatever order esbuild loads them in: one promise per group, shared by both loads.
      const groups = new Map<string, Promise<string>>();
      const models = new Set<string>();
      const cutGroup = (apisDir: string, group: string, listed: readonly string[]): Promise<string> => {
        let cut = groups.get(group);
        if (!cut) {
          typescript ??= import('typescript').then((m) => m.default);
          cut = typescript.then((t) => pruneGroup(t, join(apisDir, `${group}.js`), group, listed, models));
          groups.set(group, cut);
        }
        return cut;
      };
      build.onLoad({ filter: GENERATED }, async (args) => {
        const [, api, serializer] = GENERATED.exec(args.path) ?? [];
        if (api !== undefined) {
          const listed = Object.hasOwn(calls, api) ? calls[api] : undefined;
          return listed ? { contents: await cutGroup(dirname(args.path), api, listed), loader: 'js' } : undefined;
        }
        if (serializer === undefined) return undefined;
        const apisDir = join(dirname(dirname(args.path)), 'apis');
        await Promise.all(Object.entries(calls).map(([group, listed]) => cutGroup(apisDir, group, listed)));
        return { contents: pruneSerializer(args.path, modelClosure(dirname(args.path), models)), loader: 'js' };
      });
    },
  };
}
