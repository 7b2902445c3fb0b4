#!/usr/bin/env node
// Two-command bootstrap: `npm test` / `npm start` / `npm run bench` land here.
// Plain JS, zero dependencies, runs on whatever Node the image has (>= 20):
//   1. installs node_modules when missing or stale (package-lock.json hash vs. a stamp file),
//   2. runs the real command through tsx on the project's own Node 24 (devDependency `node`),
//      with node_modules/.bin first on PATH, forwarding signals and the exit code.
// `node scripts/run.mjs deps` only does step 1 (used by .ci/run before lint/typecheck).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => process.stderr.write(`[kubelease] ${msg}\n`);
const commands = {
  test: 'scripts/test.ts',
  start: 'scripts/start.ts',
  bench: 'scripts/bench.ts',
};

function lockHash() {
  const lock = join(root, 'package-lock.json');
  if (!existsSync(lock)) {
    say('package-lock.json is missing: run `npm install` once to create it');
    process.exit(1);
  }
  return createHash('sha256').update(readFileSync(lock)).digest('hex');
}

function ensureDeps() {
  const stamp = join(root, 'node_modules', '.kubelease-lock-hash');
  const want = lockHash();
  const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
  if (have === want && existsSync(join(root, 'node_modules', '.bin', 'tsx'))) return;
  say(existsSync(join(root, 'node_modules'))
    ? 'package-lock.json changed since the last install: running npm ci'
    : 'node_modules is missing: running npm ci (first run only)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // On a terminal npm shows its own progress; in CI logs, `http` level prints one line per fetch.
  const progress = process.stderr.isTTY ? [] : ['--loglevel=http'];
  const res = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--foreground-scripts', ...progress], {
    cwd: root,
    stdio: 'inherit',
  });
  if (res.error) {
    say(`could not run npm: ${res.error.message}`);
    process.exit(1);
  }
  if (res.status !== 0) {
    say(`npm ci failed (exit ${res.status ?? res.signal}); fix the error above and run again`);
    process.exit(res.status || 1);
  }
  writeFileSync(stamp, `${want}\n`);
  say('dependencies installed');
}

const [cmd, ...rest] = process.argv.slice(2);
// `npm test -- x` arrives here as `test x`; a direct `node scripts/run.mjs test -- x` keeps the
// `--`, which jest would take as "everything after is a path pattern": drop it.
const args = rest[0] === '--' ? rest.slice(1) : rest;
if (cmd !== 'deps' && !(cmd in commands)) {
  say(`usage: node scripts/run.mjs <deps|${Object.keys(commands).join('|')}> [args...]`);
  process.exit(2);
}

ensureDeps();
if (cmd === 'deps') process.exit(0);

const script = commands[cmd];
if (!existsSync(join(root, script))) {
  say(`\`${cmd}\` is not available yet: ${script} does not exist in this checkout`);
  process.exit(1);
}

const bin = join(root, 'node_modules', '.bin');
const env = { ...process.env, PATH: [bin, process.env.PATH ?? ''].join(delimiter) };
// Node 24 from the `node` devDependency, with tsx as a loader: the same as `tsx <script>` but in
// ONE process. The tsx CLI wrapper relays signals to its child and SIGKILLs it when the child
// does not acknowledge within 30 ms, which on a busy machine cut the test bed's shutdown short
// and leaked etcd. Here Ctrl-C reaches scripts/test.ts directly and it stops the bed in order.
const node = existsSync(join(bin, 'node')) ? join(bin, 'node') : process.execPath;
const child = spawn(node, ['--import', 'tsx', script, ...args], { cwd: root, env, stdio: 'inherit' });

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
}
child.on('error', (err) => {
  say(`could not start ${node}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    // Re-raise so our parent sees the same cause of death (e.g. 130 for Ctrl-C in shells).
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
