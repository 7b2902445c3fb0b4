import { build, analyzeMetafile } from 'esbuild';
import { lambdaEsbuildOptions } from '/work/wt/perf/infra/bundling.ts';
const o = lambdaEsbuildOptions({ creds: '/work/wt/perf/functions/creds.ts' }, '/tmp/anl-out');
const r = await build({ ...o, metafile: true, sourcemap: false });
const out = Object.values(r.metafile.outputs)[0];
const byPkg = new Map<string, number>();
for (const [f, v] of Object.entries(out.inputs)) {
  const m = f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)(\/dist\/gen\/(\w+))?/);
  const k = m ? m[1] + (m[3] ? '/gen/' + m[3] : '') : 'src:' + f.split('/').slice(0, 2).join('/');
  byPkg.set(k, (byPkg.get(k) ?? 0) + v.bytesInOutput);
}
console.log('total', out.bytes);
for (const [k, v] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(String(v).padStart(9), k);
