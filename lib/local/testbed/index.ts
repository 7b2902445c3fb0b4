/**
 * The real test bed: etcd, kube-apiserver, kube-controller-manager and DynamoDB Local, all on
 * 127.0.0.1 with random ports, plus the broker identity from deploy/kubernetes/broker-rbac.yaml.
 * Used once per `npm test` run (scripts/test.ts) and by `npm start`.
 *
 * Nothing here sleeps for a fixed time: every step polls a real signal with a deadline, and a
 * child that dies while we wait fails the start at once with the tail of its log.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startApiserver, waitForApiserver } from './apiserver.js';
import { failedStart, makeBedDir } from './bed-dir.js';
import { createBrokerIdentity } from './broker-identity.js';
import { AUDIENCES, BROKER_NAMESPACE, BROKER_SERVICE_ACCOUNT, DYNAMODB_CREDENTIALS, DYNAMODB_REGION, ISSUER } from './constants.js';
import { startControllerManager, waitForControllerManager } from './controller-manager.js';
import { checkJava, dynamoDbLocalJar, startDynamoDbLocal } from './dynamodb-local.js';
import { BedError } from './errors.js';
import { startEksBed, type EksBed } from './eks/index.js';
import { etcdBinary, etcdPeerPort, startEtcd, waitForEtcd } from './etcd.js';
import { kubeBinaries } from './kube-binaries.js';
import { kubeConfigFromFile, writeAdminKubeconfig } from './kubeconfig.js';
import { reapLeftovers } from './pidfile.js';
import { makePki } from './pki.js';
import { freePorts } from './ports.js';
import { Supervisor } from './processes.js';
import type { TestBed, TestBedInfo, TestBedOptions } from './types.js';

export { REPO_ROOT } from './paths.js';
export { ISSUER, BROKER_NAMESPACE, BROKER_SERVICE_ACCOUNT } from './constants.js';
export type { TestBedInfo, TestBed } from './types.js';
export { BedError } from './errors.js';
export { ensureKubeBinaries } from './kube-binaries.js';

/** starts in all, each on new ports, when a child finds its port taken (probed free, then bound by another process) */
const PORT_ATTEMPTS = 3;

export async function startTestBed(opts: TestBedOptions = {}): Promise<TestBed> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, log, since);
    } catch (e) {
      if (!(e instanceof BedError && e.portTaken)) throw e;
      if (attempt === PORT_ATTEMPTS) throw new BedError(`${e.summary}, in each of ${PORT_ATTEMPTS} starts on new ports: run again`, e.detail);
      log(`${e.summary}; starting again on new ports (attempt ${attempt + 1} of ${PORT_ATTEMPTS})`);
    }
  }
}

async function startOnce(opts: TestBedOptions, log: (line: string) => void, since: () => string): Promise<TestBed> {
  // preflight: clear one-line errors before anything is spawned
  const { apiserverBin, kcmBin } = kubeBinaries(opts.kubeBinDir);
  const etcdBin = etcdBinary();
  const ddb = dynamoDbLocalJar();
  await checkJava();

  reapLeftovers(log);

  const persist = !!opts.persist;
  const { dir, logDir } = await makeBedDir(persist, opts.dataDir);
  const sup = new Supervisor(dir, logDir, !persist);
  let eks: EksBed | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await sup.stopAll();
      await eks?.stop();
      if (!persist) await fsp.rm(dir, { recursive: true, force: true });
    })());

  try {
    const pki = await makePki(path.join(dir, 'pki'));
    const caPem = readFileSync(pki.caCert, 'utf8');
    const adminCertPem = readFileSync(pki.adminCert, 'utf8');
    const adminKeyPem = readFileSync(pki.adminKey, 'utf8');
    log(`PKI ready (${since()})`);

    // the EKS authenticator + STS (in this process) take their ports before the children's are
    // probed: a port released by the probe is one the kernel may hand the next listen(0)
    eks = await startEksBed({ dir, logDir, pki });
    log(`EKS authenticator on ${eks.info.authenticatorUrl}, STS on ${eks.info.stsEndpoint} (${since()})`);

    const [etcdClient, etcdPeerRandom, apiPort, ddbPort] = await (opts.ports ?? freePorts)(4) as [number, number, number, number];
    const etcdPeer = await etcdPeerPort(dir, persist, etcdClient, etcdPeerRandom);

    // 1. etcd and DynamoDB Local (slowest to boot: JVM) in parallel
    const etcd = startEtcd(sup, etcdBin, dir, etcdClient, etcdPeer);
    const dynamo = startDynamoDbLocal(sup, ddb, ddbPort, dir, persist);
    const dynamoReady = dynamo.ready.then(() => log(`DynamoDB Local ready on ${dynamo.endpoint} (${since()})`));
    dynamoReady.catch(() => {}); // awaited below; avoid an unhandled rejection meanwhile

    // 2. kube-apiserver, started at once: it retries etcd until etcd has elected itself
    const apiserver = startApiserver(sup, apiserverBin, { dir, etcdUrl: etcd.url, port: apiPort, pki, tokenWebhookKubeconfig: eks.webhookKubeconfig });
    const apiUrl = apiserver.url;
    const etcdReady = waitForEtcd(etcd.proc, etcd.url).then(() => log(`etcd ready (${since()})`));
    etcdReady.catch(() => {});
    const tlsAdmin = { ca: caPem, cert: adminCertPem, key: adminKeyPem };
    await etcdReady;
    await waitForApiserver(apiserver.proc, apiUrl, tlsAdmin);
    log(`kube-apiserver ready on ${apiUrl} (${since()})`);

    const adminKubeconfigPath = writeAdminKubeconfig(dir, apiUrl, caPem, adminCertPem, adminKeyPem);
    const adminKc = kubeConfigFromFile(adminKubeconfigPath);
    const core = adminKc.makeApiClient(k8s.CoreV1Api);

    // 3. kube-controller-manager
    const kcm = startControllerManager(sup, kcmBin, adminKubeconfigPath);

    // 4. broker identity (needs only the apiserver; overlaps with the controller-manager start)
    const broker = await createBrokerIdentity({ adminKc, core, apiserver: apiserver.proc, apiUrl, caPem, dir });
    log(`broker identity ${BROKER_NAMESPACE}/${BROKER_SERVICE_ACCOUNT} ready (${since()})`);

    await waitForControllerManager(kcm, core);
    log(`kube-controller-manager ready (${since()})`);

    await dynamoReady;

    const info: TestBedInfo = {
      apiserver: { url: apiUrl, caPem },
      admin: { kubeconfigPath: adminKubeconfigPath, clientCertPem: adminCertPem, clientKeyPem: adminKeyPem },
      broker: { token: broker.token, namespace: BROKER_NAMESPACE, serviceAccount: BROKER_SERVICE_ACCOUNT, kubeconfigPath: broker.kubeconfigPath },
      dynamodb: { endpoint: dynamo.endpoint, region: DYNAMODB_REGION, credentials: { ...DYNAMODB_CREDENTIALS } },
      eks: eks.info,
      audiences: [...AUDIENCES],
      issuer: ISSUER,
      dir,
      logDir,
    };
    dynamo.client.destroy();
    log(`test bed up in ${since()}`);
    return { ...info, info: () => structuredClone(info), stop };
  } catch (e) {
    throw await failedStart(e, logDir, stop);
  }
}
