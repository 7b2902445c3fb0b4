/** Flag parsing, targets, request bodies from key=value pairs and files, addresses and regions. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bodyFromArgs } from '../../../lib/cli/core/body.js';
import { expectPositionals, outputFormat, parseCommand, type Options } from '../../../lib/cli/core/command.js';
import { CliError, EXIT_USAGE, errorLine } from '../../../lib/cli/core/errors.js';
import { envLine, humanDuration } from '../../../lib/cli/core/format.js';
import { parseMountPrefix, parseTarget } from '../../../lib/cli/core/target.js';
import { normalizeAddress, regionFor, resolveEndpoint } from '../../../lib/cli/client/endpoint.js';

const options: Options = {
  namespace: { type: 'string', short: 'n', help: '' },
  output: { type: 'string', short: 'o', help: '' },
  force: { type: 'boolean', help: '' },
};
const cmd = { name: 'test', options };

function usageOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(EXIT_USAGE);
    return e as CliError;
  }
  throw new Error('expected a usage error');
}

describe('parseCommand', () => {
  it('parses flags, short flags and positionals', () => {
    const p = parseCommand(cmd, ['a/b', '-n', 'apps', '--force', '-o=json']);
    expect(p.positionals).toEqual(['a/b']);
    expect(p.values).toMatchObject({ namespace: 'apps', force: true, output: 'json' });
    expect(p.rest).toEqual([]);
  });

  it('keeps what follows -- for the child command', () => {
    const p = parseCommand(cmd, ['a/b', '--force', '--', 'kubectl', 'get', '-n', 'x']);
    expect(p.positionals).toEqual(['a/b']);
    expect(p.rest).toEqual(['kubectl', 'get', '-n', 'x']);
  });

  it('rejects unknown flags and missing values as usage errors (exit 2)', () => {
    expect(usageOf(() => parseCommand(cmd, ['--nope'])).message).toBe("Unknown option '--nope'");
    expect(usageOf(() => parseCommand(cmd, ['-n'])).message).toMatch(/Option '-n, --namespace <value>' argument missing/);
  });

  it('checks positional counts and output formats', () => {
    const p = parseCommand(cmd, ['x', 'y']);
    expect(usageOf(() => expectPositionals(p, 1, 1, 'test', '<x>')).message).toBe('unexpected argument "y"');
    expect(usageOf(() => expectPositionals(parseCommand(cmd, []), 1, 1, 'test', '<mount>/<role>')).message).toBe('missing <mount>/<role>');
    expect(outputFormat(parseCommand(cmd, ['-o', 'json']), ['table', 'json'], 'table', 'test')).toBe('json');
    expect(outputFormat(parseCommand(cmd, []), ['table', 'json'], 'table', 'test')).toBe('table');
    expect(usageOf(() => outputFormat(parseCommand(cmd, ['-o', 'yaml']), ['table', 'json'], 'table', 'test')).message).toBe('-o yaml: choose one of table, json');
  });
});

describe('targets', () => {
  it('parses <mount>/<role> and vault-style <mount>/creds/<role>', () => {
    expect(parseTarget('prod/deploy', 'x')).toEqual({ mount: 'prod', role: 'deploy' });
    expect(parseTarget('prod/creds/deploy', 'x')).toEqual({ mount: 'prod', role: 'deploy' });
  });
  it.each(['prod', 'prod/', '/deploy', 'Prod/deploy', 'a/b/c', 'prod/de ploy'])('rejects %p', (arg) => {
    usageOf(() => parseTarget(arg, 'x'));
  });
  it('parses prefixes', () => {
    expect(parseMountPrefix('prod', 'x')).toEqual({ mount: 'prod' });
    expect(parseMountPrefix('prod/deploy', 'x')).toEqual({ mount: 'prod', role: 'deploy' });
    usageOf(() => parseMountPrefix('prod/a/b', 'x'));
  });
});

describe('bodyFromArgs', () => {
  const files: Record<string, string> = {
    'role.yaml': 'allowed_kubernetes_namespaces: [apps]\ntoken_max_ttl: 2h\n',
    'role.json': '{"token_default_ttl": "1h", "token_max_ttl": "4h"}',
    'ca.pem': '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n',
    'list.yaml': '- a\n',
  };
  const read = (f: string) => {
    if (!(f in files)) throw new CliError(`cannot read ${f}`);
    return files[f]!;
  };

  it('takes key=value pairs, @file values, and repeated keys as lists', () => {
    expect(bodyFromArgs(['a=1', 'b=x=y', 'c=', 'ca=@ca.pem', 'ns=a', 'ns=b'], 't', read)).toEqual({ a: '1', b: 'x=y', c: '', ca: files['ca.pem'], ns: ['a', 'b'] });
  });

  it('takes YAML and JSON files; pairs win over files', () => {
    expect(bodyFromArgs(['role.yaml', 'role.json', 'token_max_ttl=8h'], 't', read)).toEqual({ allowed_kubernetes_namespaces: ['apps'], token_default_ttl: '1h', token_max_ttl: '8h' });
  });

  it('rejects files that are not mappings and malformed pairs', () => {
    expect(() => bodyFromArgs(['list.yaml'], 't', read)).toThrow(/must hold a mapping/);
    usageOf(() => bodyFromArgs(['1a=b'], 't', read));
  });

  it('reads real files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kl-body-'));
    try {
      writeFileSync(path.join(dir, 'c.yaml'), 'kubernetes_host: https://k\n');
      expect(bodyFromArgs([path.join(dir, 'c.yaml')], 't')).toEqual({ kubernetes_host: 'https://k' });
      expect(() => bodyFromArgs([path.join(dir, 'missing.yaml')], 't')).toThrow(/cannot read file .*missing\.yaml \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('broker address and region', () => {
  it('normalizes the address and takes KUBELEASE_ADDR', () => {
    expect(normalizeAddress('https://abc.execute-api.eu-west-1.amazonaws.com/prod/', {})).toBe('https://abc.execute-api.eu-west-1.amazonaws.com/prod');
    expect(normalizeAddress(undefined, { KUBELEASE_ADDR: 'http://127.0.0.1:8200' })).toBe('http://127.0.0.1:8200');
    expect(normalizeAddress('https://b.example:8443', { KUBELEASE_ADDR: 'http://127.0.0.1:1' })).toBe('https://b.example:8443');
  });

  it('refuses a missing address, plain http to a remote host, and non-URLs', () => {
    expect(usageOf(() => normalizeAddress(undefined, {})).message).toBe('no broker address');
    expect(usageOf(() => normalizeAddress('http://broker.example', {})).message).toMatch(/plain http to a remote host/);
    expect(usageOf(() => normalizeAddress('not a url', {})).message).toMatch(/is not a URL/);
    expect(usageOf(() => normalizeAddress('ftp://127.0.0.1', {})).message).toMatch(/must be http\(s\)/);
  });

  it('takes the region from --region, AWS_REGION, the execute-api host, or us-east-1 on loopback', () => {
    const api = 'https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod';
    expect(regionFor(api, 'eu-west-1', { AWS_REGION: 'us-west-2' })).toBe('eu-west-1');
    expect(regionFor(api, undefined, { AWS_REGION: 'us-west-2' })).toBe('us-west-2');
    expect(regionFor(api, undefined, {})).toBe('ap-southeast-2');
    expect(regionFor('https://abc-vpce-0123.execute-api.eu-central-1.vpce.amazonaws.com/x', undefined, {})).toBe('eu-central-1');
    expect(regionFor('http://127.0.0.1:8200', undefined, {})).toBe('us-east-1');
    expect(usageOf(() => regionFor('https://broker.example.com', undefined, {})).message).toBe('cannot tell the signing region of broker.example.com');
    expect(resolveEndpoint({ addr: api }, {})).toEqual({ base: api, region: 'ap-southeast-2' });
  });
});

describe('errors and formatting', () => {
  it('prints one line with cause and fix', () => {
    expect(errorLine(new CliError('it broke\nbadly', 1, 'do this'))).toBe('kubelease: it broke badly; fix: do this');
    expect(errorLine(new Error('x'))).toBe('kubelease: unexpected error: x');
  });
  it('formats durations and env lines', () => {
    expect(humanDuration(3725)).toBe('1h2m5s');
    expect(humanDuration(59)).toBe('59s');
    expect(humanDuration(-5)).toBe('0s');
    expect(envLine('A', 'eyJ.abc-_x')).toBe('A=eyJ.abc-_x');
    expect(envLine('B', "it's here")).toBe("B='it'\\''s here'");
  });
});
