// `node --require ./trace-modules.cjs …` (Node >= 22.15 / 23.5): appends every module the process
// resolves — by require or import, built-in or file — to the file named by
// KUBELEASE_TRACE_MODULES, one URL or specifier per line, and at exit Node's own list of the
// internal modules it loaded (process.moduleLoadList) to KUBELEASE_TRACE_INTERNALS. Used to
// prove what a code path loads.
'use strict';
const { appendFileSync } = require('node:fs');
const { registerHooks } = require('node:module');

const file = process.env.KUBELEASE_TRACE_MODULES;
const internals = process.env.KUBELEASE_TRACE_INTERNALS;
if (internals) process.on('exit', () => appendFileSync(internals, `${process.moduleLoadList.join('\n')}\n`));
if (file && registerHooks) {
  registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      appendFileSync(file, `${r.url}\n`);
      return r;
    },
  });
}
