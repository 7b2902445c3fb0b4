// `node --import ./trace-imports.mjs …`: appends every module URL the process resolves to the
// file named by KUBELEASE_TRACE_IMPORTS (one per line). Used to prove what a code path loads.
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
let file;
export async function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, r.url + '\\n');
  return r;
}`;
if (process.env.KUBELEASE_TRACE_IMPORTS) {
  register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { file: process.env.KUBELEASE_TRACE_IMPORTS } });
}
