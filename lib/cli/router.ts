/** `kubelease <command> …`: finds the command (loading only its module), parses, runs, maps errors to exit codes. */
import { helpText, parseCommand, type Command, type Io } from './core/command.js';
import { EXIT_USAGE, errorLine, exitCodeOf } from './core/errors.js';

type Loader = () => Promise<Command>;

interface Entry {
  summary: string;
  load?: Loader;
  subcommands?: Record<string, Loader>;
}

export const COMMANDS: Record<string, Entry> = {
  creds: { summary: 'issue a token for a role (json, env, token or kubeconfig output)', load: () => import('./commands/creds.js').then((m) => m.credsCommand) },
  kubeconfig: { summary: 'write a kubeconfig using the exec plugin or a token; --merge into ~/.kube/config', load: () => import('./commands/kubeconfig.js').then((m) => m.kubeconfigCommand) },
  'exec-credential': { summary: 'kubectl exec plugin with a shared disk cache', load: () => import('./commands/exec-credential.js').then((m) => m.execCredentialCommand) },
  agent: { summary: 'keep token files, kubeconfigs and templates fresh; optional loopback proxy; supervise a child', load: () => import('./commands/agent.js').then((m) => m.agentCommand) },
  leases: { summary: 'list leases (admins: all; others: their own)', load: () => import('./commands/leases.js').then((m) => m.leasesCommand) },
  lookup: { summary: 'show one lease', load: () => import('./commands/lookup.js').then((m) => m.lookupCommand) },
  revoke: { summary: 'revoke a lease, or every lease you may revoke under a prefix', load: () => import('./commands/revoke.js').then((m) => m.revokeCommand) },
  config: {
    summary: 'admin: cluster connections (read, write, delete, list)',
    subcommands: {
      read: () => import('./commands/config.js').then((m) => m.configRead),
      write: () => import('./commands/config.js').then((m) => m.configWrite),
      delete: () => import('./commands/config.js').then((m) => m.configDelete),
      list: () => import('./commands/config.js').then((m) => m.configList),
    },
  },
  roles: {
    summary: 'admin: roles (list, read, write, delete, check)',
    subcommands: {
      list: () => import('./commands/roles.js').then((m) => m.rolesList),
      read: () => import('./commands/roles.js').then((m) => m.rolesRead),
      write: () => import('./commands/roles.js').then((m) => m.rolesWrite),
      delete: () => import('./commands/roles.js').then((m) => m.rolesDelete),
      check: () => import('./commands/roles.js').then((m) => m.rolesCheck),
    },
  },
};

export function topHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, e]) => `  ${name.padEnd(16)} ${e.summary}`);
  return [
    'usage: kubelease <command> [flags]',
    '',
    'Short-lived Kubernetes credentials from a kubelease broker, signed with your AWS identity.',
    '',
    'Commands:',
    ...lines,
    '',
    'Every command takes --help. Address: --addr or KUBELEASE_ADDR; AWS identity: the default credential chain.',
    '',
    'Example:',
    '  export KUBELEASE_ADDR=https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
    '  kubelease kubeconfig prod/deploy -n apps --exec --merge && kubectl get pods',
    '',
  ].join('\n');
}

function groupHelp(name: string, e: Entry): string {
  const subs = Object.keys(e.subcommands ?? {});
  return [`usage: kubelease ${name} <${subs.join('|')}> [flags]`, '', e.summary, '', `Run kubelease ${name} <subcommand> --help for its flags and an example.`, '', 'Example:', `  kubelease ${name} ${subs[0]} --help`, ''].join('\n');
}

export function processIo(): Io {
  return {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    env: process.env,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
  };
}

async function resolve(argv: string[], io: Io): Promise<{ cmd: Command; args: string[] } | number> {
  const [first, second] = argv;
  if (first === undefined) {
    io.err(topHelp());
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(topHelp());
    return 0;
  }
  if (first === '--version' || first === 'version') {
    io.out(`kubelease ${process.env.KUBELEASE_CLI_VERSION ?? 'dev'}\n`); // set by the build
    return 0;
  }
  const entry = COMMANDS[first];
  if (!entry) {
    io.err(`kubelease: unknown command "${first}"; fix: see kubelease --help\n`);
    return EXIT_USAGE;
  }
  if (entry.load) return { cmd: await entry.load(), args: argv.slice(1) };
  if (second === '--help' || second === '-h') {
    io.out(groupHelp(first, entry));
    return 0;
  }
  const sub = second !== undefined ? entry.subcommands?.[second] : undefined;
  if (!sub) {
    io.err(`kubelease: ${second === undefined ? `${first} needs a subcommand` : `unknown subcommand "${first} ${second}"`}; fix: see kubelease ${first} --help\n`);
    return EXIT_USAGE;
  }
  return { cmd: await sub(), args: argv.slice(2) };
}

export async function runCli(argv: string[], io: Io = processIo()): Promise<number> {
  try {
    const found = await resolve(argv, io);
    if (typeof found === 'number') return found;
    const parsed = parseCommand(found.cmd, found.args);
    if (parsed.values.help) {
      io.out(helpText(found.cmd));
      return 0;
    }
    return await found.cmd.run(parsed, io);
  } catch (e) {
    io.err(`${errorLine(e)}\n`);
    return exitCodeOf(e);
  }
}
