/** agent.yaml: shape, defaults, paths, modes, listener addresses, templates. */
import { parseAgentConfig } from '../../../lib/cli/agent/config.js';
import { parseListenAddress } from '../../../lib/cli/agent/listen-address.js';
import { checkTemplate, renderTemplate, templateValues } from '../../../lib/cli/agent/template.js';
import { CliError } from '../../../lib/cli/core/errors.js';

const yaml = `
addr: http://127.0.0.1:8200
revoke_on_exit: true
credentials:
  - role: local/demo-generated
    namespace: default
    ttl: 1h
    audiences: [a, b]
    sinks:
      - {type: file, path: web.token, mode: "0640"}
      - {type: kubeconfig, path: /run/web.kubeconfig}
    templates:
      - {source: app.tmpl, destination: out/app.env, command: "kill -HUP 1"}
    listener: {address: "127.0.0.1:8301"}
    exec_after: echo done
  - name: reader
    role: local/demo-bind-role
`;

function errorOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  }
  throw new Error('expected an error');
}

describe('parseAgentConfig', () => {
  it('normalizes credentials, resolving paths against the file', () => {
    const c = parseAgentConfig(yaml, '/etc/kubelease/agent.yaml');
    expect(c).toEqual({
      addr: 'http://127.0.0.1:8200',
      region: undefined,
      profile: undefined,
      revokeOnExit: true,
      exitAfterAuth: false,
      credentials: [
        {
          name: 'local-demo-generated',
          mount: 'local',
          role: 'demo-generated',
          namespace: 'default',
          ttl: '1h',
          audiences: 'a,b',
          clusterRoleBinding: false,
          sinks: [
            { type: 'file', path: '/etc/kubelease/web.token', mode: 0o640 },
            { type: 'kubeconfig', path: '/run/web.kubeconfig', mode: 0o600, context: undefined },
          ],
          templates: [{ source: '/etc/kubelease/app.tmpl', destination: '/etc/kubelease/out/app.env', mode: 0o600, command: 'kill -HUP 1' }],
          listener: { host: '127.0.0.1', port: 8301 },
          execAfter: 'echo done',
        },
        { name: 'reader', mount: 'local', role: 'demo-bind-role', namespace: undefined, ttl: undefined, audiences: undefined, clusterRoleBinding: false, sinks: [], templates: [], listener: undefined, execAfter: undefined },
      ],
    });
  });

  it.each([
    ['credentials: []', 'credentials: at least one credential'],
    ['credentials: [{role: local/x, colour: red}]', 'credentials[0]: Unrecognized key: "colour"'],
    ['credentials: [{role: local/x, sinks: [{type: file, path: t, mode: 640}]}]', 'credentials[0].sinks[0].mode'],
    ['credentials: [{role: local/x, sinks: [{type: file, path: t, mode: "0666"}]}]', 'group/other may read but never write a token file'],
    ['credentials: [{role: local/x, sinks: [{type: socket, path: t}]}]', 'credentials[0].sinks[0].type'],
    ['addr: 1\ncredentials: [{role: local/x}]', 'addr:'],
    ['credentials: [{role: x}]', '"x" is not <mount>/<role>'],
    ['credentials: [{role: local/x}, {role: local/x}]', 'credentials[1].name: "local-x" is used twice'],
    ['credentials: [{role: local/x, listener: {address: "0.0.0.0:8301"}}]', 'credentials[0].listener.address: "0.0.0.0:8301" is not a loopback address'],
    ['credentials: [', 'is not valid YAML'],
  ])('refuses %p naming the field', (text, message) => {
    const e = errorOf(() => parseAgentConfig(text, 'agent.yaml'));
    expect(e.message).toContain(message);
    expect(e.exitCode).toBe(2);
  });
});

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:8301', { host: '127.0.0.1', port: 8301 }],
    ['127.1.2.3:0', { host: '127.1.2.3', port: 0 }],
    ['localhost:9000', { host: '127.0.0.1', port: 9000 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
  ])('accepts %s', (a, spec) => expect(parseListenAddress(a)).toEqual(spec));

  it.each(['0.0.0.0:8301', '[::]:8301', '10.0.0.5:8301', 'example.com:80', '128.0.0.1:1'])('refuses non-loopback %s', (a) => {
    expect(errorOf(() => parseListenAddress(a)).message).toContain('is not a loopback address');
  });
  it.each(['8301', '127.0.0.1', '127.0.0.1:99999'])('refuses malformed %s', (a) => {
    expect(errorOf(() => parseListenAddress(a)).exitCode).toBe(2);
  });
});

describe('templates', () => {
  const issued = { leaseId: 'l/creds/r/x', token: 'tok', leaseSeconds: 600, issuedAtMs: 0, expiresAtMs: Date.UTC(2030, 0, 1), namespace: 'default', serviceAccount: 'kl-x', server: 'https://k:6443', caPem: 'PEM' };

  it('renders every variable', () => {
    const text = 'T={{ .Token }} S={{.Server}} C={{ .CACert }} B={{ .CACertBase64 }} N={{ .Namespace }} A={{ .ServiceAccount }} L={{ .LeaseID }} E={{ .Expiry }} X={{ .Name }}';
    expect(renderTemplate(text, 't', templateValues('web', issued))).toBe('T=tok S=https://k:6443 C=PEM B=UEVN N=default A=kl-x L=l/creds/r/x E=2030-01-01T00:00:00Z X=web');
  });
  it('refuses unknown variables and other actions', () => {
    expect(errorOf(() => checkTemplate('{{ .Secret }}', 'a.tmpl')).message).toBe('template a.tmpl: unknown variable .Secret');
    expect(errorOf(() => checkTemplate('{{ with secret "x" }}', 'a.tmpl')).message).toBe('template a.tmpl: "{{ with secret "x" }}" is not supported (only variables like {{ .Token }})');
  });
});
