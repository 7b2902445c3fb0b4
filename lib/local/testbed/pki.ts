/** PKI of the bed: openssl CLI for X.509, node:crypto for the service-account key pair. */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BedError } from './errors.js';

const execFileP = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  /** serving certificate of the bed's EKS authenticator webhook */
  eksCert: string;
  eksKey: string;
  saKey: string;
  saPub: string;
}

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, IP:10.0.0.1
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await execFileP('openssl', args, { cwd, timeout: 30_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new BedError('openssl is not installed: apt-get install openssl');
    throw new BedError(`openssl ${args[0]} failed: ${(err.stderr ?? err.message).trim().split('\n')[0]}`);
  }
}

export async function makePki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const pki: Pki = {
    caCert: f('ca.crt'), caKey: f('ca.key'),
    serverCert: f('apiserver.crt'), serverKey: f('apiserver.key'),
    adminCert: f('admin.crt'), adminKey: f('admin.key'),
    eksCert: f('eks-authenticator.crt'), eksKey: f('eks-authenticator.key'),
    saKey: f('sa.key'), saPub: f('sa.pub'),
  };
  // a persisted bed keeps what it has (tokens stay valid) and gains only what a newer bed adds
  const has = (...files: string[]) => files.every((p) => existsSync(p));
  writeFileSync(f('openssl.cnf'), OPENSSL_CNF);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const freshCa = !has(pki.caCert, pki.caKey);
  if (freshCa) {
    await openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650',
      '-subj', '/CN=kubelease-test-ca', '-config', 'openssl.cnf', '-extensions', 'v3_ca']);
  }
  const leaf = async (name: string, subj: string, ext: string) => {
    if (!freshCa && has(f(`${name}.crt`), f(`${name}.key`))) return;
    // one serial file per leaf: the leaves are signed in parallel
    await openssl(dir, ['req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj, '-config', 'openssl.cnf']);
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAserial', `${name}.srl`, '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '3650', '-extfile', 'openssl.cnf', '-extensions', ext]);
  };
  await Promise.all([
    leaf('apiserver', '/CN=kube-apiserver', 'server'),
    leaf('admin', '/O=system:masters/CN=kubelease-harness', 'client'),
    leaf('eks-authenticator', '/CN=kubelease-eks-authenticator', 'server'),
  ]);
  if (!freshCa && has(pki.saKey, pki.saPub)) return pki;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(pki.saKey, privateKey, { mode: 0o600 });
  writeFileSync(pki.saPub, publicKey);
  return pki;
}
