/**
 * Name templates: a small, safe subset of Go text/template in the spirit of Vault's username
 * templating. Tokenized and interpreted; nothing is ever evaluated as code.
 *
 * Grammar
 *   template := ( text | "{{" ["-" ws] pipeline [ws "-"] "}}" )*
 *   pipeline := command ( "|" command )*
 *   command  := function arg*            a call; in a pipe the previous value is the LAST argument
 *             | arg                      (first command only)
 *   arg      := .Field | "string" | `raw string` | integer | "(" pipeline ")"
 *
 * Fields:    .RoleName .DisplayName .Mount .Namespace
 * Functions: random N · unix_time · unix_time_millis · truncate N s · lowercase s · uppercase s
 *            replace OLD NEW s · printf FORMAT args… (%s %d %v %%) · sanitize s (kubelease:
 *            lower-case, characters outside [a-z0-9-] → "-")
 *
 * Example: {{ printf "ci-%s-%s" (.RoleName | sanitize | truncate 20) (random 8) }}
 */
import { invalid } from './errors.js';
import { quote } from './describe.js';
import { isDns1123Label, DNS1123_LABEL_MAX, sanitizeDnsLabel } from './names.js';

export const TEMPLATE_FIELD = 'name_template';
/** kl-<role, sanitized, ≤48>-<10 random>: at most 3 + 48 + 1 + 10 = 62 characters. */
export const DEFAULT_NAME_TEMPLATE = 'kl-{{ .RoleName | sanitize | truncate 48 }}-{{ random 10 | lowercase }}';
export const MAX_TEMPLATE_LENGTH = 1024;
const MAX_OUTPUT = 4096;
const MAX_DEPTH = 16;
const MAX_RANDOM = 64;

export interface TemplateContext {
  RoleName: string;
  DisplayName?: string;
  Mount?: string;
  Namespace?: string;
  /** clock for unix_time; defaults to the current time */
  now?: Date;
}
export type RandomFn = (n: number) => string;

const FIELDS = ['RoleName', 'DisplayName', 'Mount', 'Namespace'] as const;
type Field = (typeof FIELDS)[number];

type Expr =
  | { t: 'field'; name: Field }
  | { t: 'str'; value: string }
  | { t: 'int'; value: number }
  | { t: 'pipe'; commands: Command[] };
interface Command {
  fn?: string;
  args: Expr[];
}
type Node = { t: 'text'; value: string } | { t: 'action'; pipe: Expr & { t: 'pipe' } };

const FUNCTIONS: Record<string, { min: number; max: number }> = {
  random: { min: 1, max: 1 },
  unix_time: { min: 0, max: 0 },
  unix_time_millis: { min: 0, max: 0 },
  truncate: { min: 2, max: 2 },
  lowercase: { min: 1, max: 1 },
  uppercase: { min: 1, max: 1 },
  replace: { min: 3, max: 3 },
  printf: { min: 1, max: 16 },
  sanitize: { min: 1, max: 1 },
};

const fail = (msg: string) => invalid(`${TEMPLATE_FIELD}: ${msg}`);

type Tok =
  | { k: 'field'; v: string }
  | { k: 'ident'; v: string }
  | { k: 'str'; v: string }
  | { k: 'int'; v: number }
  | { k: '|' | '(' | ')' };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '|' || c === '(' || c === ')') {
      toks.push({ k: c });
      i++;
    } else if (c === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i));
      if (!m) throw fail(`expected a field name after "." at ${quote(src.slice(i, i + 10))}`);
      toks.push({ k: 'field', v: m[1]! });
      i += m[0].length;
    } else if (c === '"') {
      let j = i + 1;
      let out = '';
      for (;;) {
        if (j >= src.length) throw fail('unterminated string');
        const d = src[j]!;
        if (d === '"') break;
        if (d === '\\') {
          const e = src[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };
          if (e === undefined || map[e] === undefined) throw fail(`unsupported escape in string at ${quote(src.slice(j, j + 2))}`);
          out += map[e];
          j += 2;
        } else {
          out += d;
          j++;
        }
      }
      toks.push({ k: 'str', v: out });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw fail('unterminated raw string');
      toks.push({ k: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(src.slice(i))!;
      if (m[0].length > 6) throw fail(`number ${m[0]} is too large`);
      toks.push({ k: 'int', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ k: 'ident', v: m[0] });
      i += m[0].length;
    } else {
      throw fail(`unexpected character ${quote(c)} in action`);
    }
  }
  return toks;
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}
  private peek(): Tok | undefined {
    return this.toks[this.pos];
  }
  done(): boolean {
    return this.pos >= this.toks.length;
  }
  pipeline(depth: number): Expr & { t: 'pipe' } {
    if (depth > MAX_DEPTH) throw fail('nested too deeply');
    const commands: Command[] = [this.command(depth, true)];
    while (this.peek()?.k === '|') {
      this.pos++;
      commands.push(this.command(depth, false));
    }
    return { t: 'pipe', commands };
  }
  private command(depth: number, first: boolean): Command {
    const tok = this.peek();
    if (tok === undefined || tok.k === '|' || tok.k === ')') throw fail('missing command');
    if (tok.k === 'ident') {
      this.pos++;
      if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, tok.v)) {
        throw fail(`unknown function ${quote(tok.v)} (known: ${Object.keys(FUNCTIONS).join(', ')})`);
      }
      const args: Expr[] = [];
      for (;;) {
        const a = this.arg(depth);
        if (!a) break;
        args.push(a);
      }
      const spec = FUNCTIONS[tok.v]!;
      const n = args.length + (first ? 0 : 1);
      if (n < spec.min || n > spec.max) {
        throw fail(`${tok.v} takes ${spec.min === spec.max ? spec.min : `${spec.min} to ${spec.max}`} argument(s), got ${n}`);
      }
      return { fn: tok.v, args };
    }
    if (!first) throw fail('only a function can follow "|"');
    const a = this.arg(depth);
    if (!a) throw fail('missing command');
    const next = this.peek();
    if (next && next.k !== '|' && next.k !== ')') throw fail('a value cannot take arguments; did you mean a function?');
    return { args: [a] };
  }
  private arg(depth: number): Expr | undefined {
    const tok = this.peek();
    if (!tok) return undefined;
    switch (tok.k) {
      case 'field':
        if (!(FIELDS as readonly string[]).includes(tok.v)) throw fail(`unknown field .${tok.v} (known: ${FIELDS.map((f) => `.${f}`).join(', ')})`);
        this.pos++;
        return { t: 'field', name: tok.v as Field };
      case 'str':
        this.pos++;
        return { t: 'str', value: tok.v };
      case 'int':
        this.pos++;
        return { t: 'int', value: tok.v };
      case '(': {
        this.pos++;
        const p = this.pipeline(depth + 1);
        if (this.peek()?.k !== ')') throw fail('missing ")"');
        this.pos++;
        return p;
      }
      case 'ident':
        throw fail(`function ${quote(tok.v)} used as an argument; wrap it in parentheses`);
      default:
        return undefined;
    }
  }
}

/** Parse a template into nodes; throws `invalid` naming name_template on syntax errors. */
function compile(template: string): Node[] {
  if (template.length > MAX_TEMPLATE_LENGTH) throw fail(`is longer than ${MAX_TEMPLATE_LENGTH} characters`);
  const nodes: Node[] = [];
  let i = 0;
  let trimNext = false;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    let text = open < 0 ? template.slice(i) : template.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text.includes('}}')) throw fail('unexpected "}}" outside an action');
      if (text) nodes.push({ t: 'text', value: text });
      break;
    }
    let body = template.slice(open + 2);
    const close = body.indexOf('}}');
    if (close < 0) throw fail('unclosed action: missing "}}"');
    body = body.slice(0, close);
    if (/^-\s/.test(body)) {
      text = text.replace(/\s+$/, '');
      body = body.slice(1);
    }
    if (/\s-$/.test(body)) {
      trimNext = true;
      body = body.slice(0, -1);
    }
    if (text.includes('}}')) throw fail('unexpected "}}" outside an action');
    if (text) nodes.push({ t: 'text', value: text });
    const toks = tokenize(body);
    if (toks.length === 0) throw fail('empty action {{ }}');
    const parser = new Parser(toks);
    const pipe = parser.pipeline(0);
    if (!parser.done()) throw fail(`unexpected token in action {{${body}}}`);
    nodes.push({ t: 'action', pipe });
    i = open + 2 + close + 2;
  }
  return nodes;
}

type Value = string | number;

function evaluate(nodes: Node[], ctx: TemplateContext, random: RandomFn): string {
  let randomBudget = 256;
  const str = (v: Value) => String(v);
  const int = (v: Value, fn: string): number => {
    const n = typeof v === 'number' ? v : /^[0-9]{1,6}$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n)) throw fail(`${fn} needs an integer, got ${quote(v)}`);
    return n;
  };
  const call = (fn: string, args: Value[]): Value => {
    switch (fn) {
      case 'random': {
        const n = int(args[0]!, fn);
        if (n < 1 || n > MAX_RANDOM) throw fail(`random takes a length from 1 to ${MAX_RANDOM}, got ${n}`);
        randomBudget -= n;
        if (randomBudget < 0) throw fail('uses too much randomness');
        const r = random(n);
        return typeof r === 'string' ? r.slice(0, n) : '';
      }
      case 'unix_time':
        return Math.floor((ctx.now ?? new Date()).getTime() / 1000);
      case 'unix_time_millis':
        return (ctx.now ?? new Date()).getTime();
      case 'truncate':
        return str(args[1]!).slice(0, int(args[0]!, fn));
      case 'lowercase':
        return str(args[0]!).toLowerCase();
      case 'uppercase':
        return str(args[0]!).toUpperCase();
      case 'sanitize':
        return sanitizeDnsLabel(str(args[0]!));
      case 'replace': {
        const [from, to, s] = args.map(str) as [string, string, string];
        if (from === '') throw fail('replace needs a non-empty string to find');
        return s.split(from).join(to);
      }
      case 'printf': {
        const [format, ...rest] = args;
        let k = 0;
        const out = str(format!).replace(/%([%sdv])/g, (_m, verb: string) => {
          if (verb === '%') return '%';
          if (k >= rest.length) throw fail(`printf: missing argument for %${verb}`);
          const v = rest[k++]!;
          if (verb === 'd') return String(int(v, 'printf %d'));
          return str(v);
        });
        if (/%[^%sdv]/.test(str(format!).replace(/%%/g, ''))) throw fail('printf supports only %s, %d, %v and %%');
        if (k < rest.length) throw fail(`printf: ${rest.length - k} extra argument(s)`);
        return out;
      }
      default:
        throw fail(`unknown function ${quote(fn)}`);
    }
  };
  const evalExpr = (e: Expr): Value => {
    switch (e.t) {
      case 'field':
        return ctx[e.name] ?? '';
      case 'str':
      case 'int':
        return e.value;
      case 'pipe': {
        let acc: Value | undefined;
        for (const c of e.commands) {
          const args = c.args.map(evalExpr);
          if (acc !== undefined) args.push(acc);
          acc = c.fn === undefined ? args[0]! : call(c.fn, args);
          if (typeof acc === 'string' && acc.length > MAX_OUTPUT) throw fail('output is too long');
        }
        return acc!;
      }
    }
  };
  let out = '';
  for (const n of nodes) {
    out += n.t === 'text' ? n.value : str(evalExpr(n.pipe));
    if (out.length > MAX_OUTPUT) throw fail('output is too long');
  }
  return out;
}

/** Render a template to a string without checking the result ("" = default template). */
export function renderTemplate(template: string, ctx: TemplateContext, random: RandomFn): string {
  return evaluate(compile(template === '' ? DEFAULT_NAME_TEMPLATE : template), ctx, random);
}

/** Syntax check only (throws `invalid` naming name_template). */
export function checkTemplateSyntax(template: string): void {
  compile(template === '' ? DEFAULT_NAME_TEMPLATE : template);
}

/**
 * Render the name of the objects a lease generates; the result must be a DNS-1123 label
 * (it names ServiceAccounts, Roles, bindings and anchor Secrets), else `invalid` naming
 * name_template and showing the output.
 */
export function renderName(template: string, ctx: TemplateContext, random: RandomFn): string {
  const name = renderTemplate(template, ctx, random);
  if (!isDns1123Label(name)) {
    throw fail(
      `renders ${quote(name)}, which is not a valid Kubernetes name (DNS-1123 label: at most ${DNS1123_LABEL_MAX} lower-case alphanumerics or "-", starting and ending with an alphanumeric)`,
    );
  }
  return name;
}
