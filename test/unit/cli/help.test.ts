/** Every command answers --help with an example; usage errors exit 2; no colour off a TTY. */
import { COMMANDS, runCli, topHelp } from '../../../lib/cli/router.js';
import type { Io } from '../../../lib/cli/core/command.js';
import { colourEnabled, styleFor } from '../../../lib/cli/core/style.js';

function io(tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const value: Io = { out: (s) => void out.push(s), err: (s) => void err.push(s), env: {}, stdoutIsTTY: tty };
  return { io: value, out, err };
}

const all: string[][] = Object.entries(COMMANDS).flatMap(([name, e]) => (e.subcommands ? Object.keys(e.subcommands).map((s) => [name, s]) : [[name]]));

describe('help', () => {
  it('lists every command', () => {
    for (const name of Object.keys(COMMANDS)) expect(topHelp()).toContain(`  ${name} `);
    expect(all).toHaveLength(16);
  });

  it.each(all)('kubelease %s %s --help prints usage, flags and an example on stdout', async (...words) => {
    const t = io();
    expect(await runCli([...words.filter(Boolean), '--help'], t.io)).toBe(0);
    const text = t.out.join('');
    expect(text).toMatch(new RegExp(`^usage: kubelease ${words.filter(Boolean).join(' ')} `));
    expect(text).toMatch(/\nExamples?:\n {2}kubelease |\nExamples?:\n {2}kubectl /);
    expect(text).toContain('-h, --help');
    expect(t.err).toEqual([]);
  });

  it.each([['config'], ['roles']])('%s --help lists its subcommands', async (group) => {
    const t = io();
    expect(await runCli([group, '--help'], t.io)).toBe(0);
    expect(t.out.join('')).toContain(`usage: kubelease ${group} <`);
  });

  it('top-level --help exits 0, no command exits 2', async () => {
    const a = io();
    expect(await runCli(['--help'], a.io)).toBe(0);
    expect(a.out.join('')).toContain('Commands:');
    const b = io();
    expect(await runCli([], b.io)).toBe(2);
    expect(b.err.join('')).toContain('usage: kubelease <command>');
  });

  it.each([
    [['nope'], 'kubelease: unknown command "nope"; fix: see kubelease --help\n'],
    [['roles'], 'kubelease: roles needs a subcommand; fix: see kubelease roles --help\n'],
    [['roles', 'frob'], 'kubelease: unknown subcommand "roles frob"; fix: see kubelease roles --help\n'],
    [['creds', 'local/x', '--frob'], "kubelease: Unknown option '--frob'; fix: see kubelease creds --help\n"],
    [['creds'], 'kubelease: missing <mount>/<role>; fix: see kubelease creds --help\n'],
    [['creds', 'local/x', '-o', 'yaml'], 'kubelease: -o yaml: choose one of table, json, env, token, kubeconfig; fix: see kubelease creds --help\n'],
    [['agent', 'local/x'], 'kubelease: missing --token-file FILE; fix: see kubelease agent --help\n'],
    [['kubeconfig', 'local/x', '--exec', '--token'], 'kubelease: --exec and --token exclude each other; fix: see kubelease kubeconfig --help\n'],
    [['revoke'], 'kubelease: missing <lease_id> (or --prefix <mount>[/<role>]); fix: see kubelease revoke --help\n'],
  ])('usage error %j exits 2 with one line', async (argv, line) => {
    const t = io();
    expect(await runCli(argv, { ...t.io, env: { KUBELEASE_ADDR: 'http://127.0.0.1:1' } })).toBe(2);
    expect(t.err).toEqual([line]);
    expect(t.out).toEqual([]);
  });
});

describe('colour', () => {
  it('is on only for a TTY without NO_COLOR or TERM=dumb', () => {
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({ isTTY: true }, {})).toBe(true);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(styleFor({ isTTY: false }, {}).bold('x')).toBe('x');
    expect(styleFor({ isTTY: true }, {}).bold('x')).toBe('\x1b[1mx\x1b[22m');
  });
});
