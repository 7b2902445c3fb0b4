/** The ExecCredential apiVersion kubectl asks for, and the answer. */
import { execCredentialJson, requestedApiVersion } from '../../../lib/cli/exec/exec-info.js';

const info = (apiVersion: string) => JSON.stringify({ kind: 'ExecCredential', apiVersion, spec: { interactive: false } });

describe('requestedApiVersion', () => {
  it('answers the version KUBERNETES_EXEC_INFO asks for', () => {
    expect(requestedApiVersion({ KUBERNETES_EXEC_INFO: info('client.authentication.k8s.io/v1') })).toBe('client.authentication.k8s.io/v1');
    expect(requestedApiVersion({ KUBERNETES_EXEC_INFO: info('client.authentication.k8s.io/v1beta1') })).toBe('client.authentication.k8s.io/v1beta1');
  });
  it('defaults to v1beta1 when run by hand', () => {
    expect(requestedApiVersion({})).toBe('client.authentication.k8s.io/v1beta1');
  });
  it('refuses other versions with a fix', () => {
    expect(() => requestedApiVersion({ KUBERNETES_EXEC_INFO: info('client.authentication.k8s.io/v1alpha1') })).toThrow(
      'kubectl asks for ExecCredential client.authentication.k8s.io/v1alpha1; kubelease answers client.authentication.k8s.io/v1 and client.authentication.k8s.io/v1beta1',
    );
    expect(() => requestedApiVersion({ KUBERNETES_EXEC_INFO: '{' })).toThrow('KUBERNETES_EXEC_INFO is not JSON');
  });
});

describe('execCredentialJson', () => {
  it('prints an ExecCredential with the token and an RFC 3339 expiry', () => {
    const out = execCredentialJson('client.authentication.k8s.io/v1', 'tok', Date.UTC(2030, 0, 2, 3, 4, 5, 678));
    expect(out.endsWith('\n')).toBe(true);
    expect(JSON.parse(out)).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: {},
      status: { expirationTimestamp: '2030-01-02T03:04:05Z', token: 'tok' },
    });
  });
});
