/**
 * The bed's EKS: an aws-iam-authenticator-faithful token webhook (HTTPS on 127.0.0.1, TLS from
 * the bed's PKI) that the kube-apiserver calls through --authentication-token-webhook-config-file,
 * and STS on loopback (HTTP, the broker's AWS_ENDPOINT_URL_STS) for AssumeRole. Both run in the
 * bed's Node process and stop with the bed.
 *
 * IAM of the bed's account: the broker's execution role (the bed issues the broker a session of
 * it), a role that trusts it with an ExternalId, and one that trusts it but is not mapped.
 * Mappings: the execution role by an access entry (default username, group kubelease-broker), the
 * ExternalId role `aws-auth` style (username kubelease-broker:{{SessionName}}, same group).
 */
import { createWriteStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { EKS, EKS_ACCOUNT } from '../constants.js';
import type { Pki } from '../pki.js';
import { AccessEntries } from './mapper.js';
import { EmulatedSts } from './sts.js';
import { reviewToken, type AuthenticatorConfig } from './webhook.js';

const BODY_LIMIT = 64 * 1024;

export interface EksBedInfo {
  clusterName: string;
  region: string;
  /** the loopback STS: what AWS_ENDPOINT_URL_STS points at */
  stsEndpoint: string;
  /** the TokenReview webhook the apiserver calls */
  authenticatorUrl: string;
  /** the broker's execution-role session (what Lambda puts in AWS_ACCESS_KEY_ID & co.) */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  brokerRoleArn: string;
  /** GetCallerIdentity's Arn for those credentials */
  brokerSessionArn: string;
  clusterAccessRoleArn: string;
  externalId: string;
  unmappedRoleArn: string;
  brokerGroup: string;
  /** fault injection: write an RFC 3339 instant here and tokens signed before it are refused */
  rejectSignedBeforeFile: string;
}

export interface EksBed {
  info: EksBedInfo;
  /** kubeconfig for --authentication-token-webhook-config-file */
  webhookKubeconfig: string;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= BODY_LIMIT) chunks.push(c);
    });
    req.on('end', () => resolve(size <= BODY_LIMIT ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

const close = (server: http.Server | https.Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

function readInstant(file: string): Date | undefined {
  try {
    const d = new Date(readFileSync(file, 'utf8').trim());
    return Number.isNaN(d.getTime()) ? undefined : d;
  } catch {
    return undefined;
  }
}

export async function startEksBed(opts: { dir: string; logDir: string; pki: Pki }): Promise<EksBed> {
  const sts = new EmulatedSts(EKS_ACCOUNT, [
    { arn: EKS.brokerRoleArn },
    { arn: EKS.clusterAccessRoleArn, trustedRoleArns: [EKS.brokerRoleArn], externalId: EKS.externalId },
    { arn: EKS.unmappedRoleArn, trustedRoleArns: [EKS.brokerRoleArn] },
  ]);
  const broker = sts.issueSession(EKS.brokerRoleArn, EKS.brokerSessionName);
  const rejectSignedBeforeFile = path.join(opts.dir, 'eks-reject-signed-before');
  rmSync(rejectSignedBeforeFile, { force: true });
  const config: AuthenticatorConfig = {
    clusterId: EKS.clusterName,
    partition: EKS.partition,
    region: EKS.region,
    sts,
    accessEntries: new AccessEntries([
      { principalArn: EKS.brokerRoleArn, groups: [EKS.brokerGroup] },
      { principalArn: EKS.clusterAccessRoleArn, username: 'kubelease-broker:{{SessionName}}', groups: [EKS.brokerGroup] },
    ]),
    rejectSignedBefore: () => readInstant(rejectSignedBeforeFile),
  };
  const log = createWriteStream(path.join(opts.logDir, 'eks-authenticator.log'), { flags: 'a' });
  const say = (line: string) => log.write(`${new Date().toISOString()} ${line}\n`);

  const webhook = https.createServer({ cert: readFileSync(opts.pki.eksCert), key: readFileSync(opts.pki.eksKey) }, (req, res) => {
    void (async () => {
      const body = await readBody(req);
      const reply = body === undefined
        ? { status: 413, body: 'request body too large', decision: 'request body too large' }
        : await reviewToken(req.method ?? '', body.toString('utf8'), config);
      say(`${req.method} ${req.url} ${reply.status} ${reply.decision}`);
      res.writeHead(reply.status, { 'content-type': reply.status === 200 || reply.status === 403 ? 'application/json; charset=UTF-8' : 'text/plain' });
      res.end(reply.body);
    })().catch((e: unknown) => {
      say(`error: ${e instanceof Error ? e.message : String(e)}`);
      res.writeHead(500).end();
    });
  });
  const stsServer = http.createServer((req, res) => {
    void (async () => {
      const body = (await readBody(req)) ?? Buffer.alloc(0);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const reply = await sts.handle({
        method: req.method ?? '',
        host: req.headers.host ?? '',
        path: q < 0 ? url : url.slice(0, q),
        rawQuery: q < 0 ? '' : url.slice(q + 1),
        headers: req.headers,
        body,
      });
      say(`sts ${req.method} ${reply.status}`);
      res.writeHead(reply.status, { 'content-type': reply.contentType }).end(reply.body);
    })().catch((e: unknown) => {
      say(`sts error: ${e instanceof Error ? e.message : String(e)}`);
      res.writeHead(500).end();
    });
  });

  const [webhookPort, stsPort] = await Promise.all([listen(webhook), listen(stsServer)]);
  const authenticatorUrl = `https://127.0.0.1:${webhookPort}/authenticate`;
  const webhookKubeconfig = path.join(opts.dir, 'eks-authenticator.kubeconfig');
  writeFileSync(
    webhookKubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'eks-authenticator', cluster: { server: authenticatorUrl, 'certificate-authority': opts.pki.caCert } }],
      users: [{ name: 'kube-apiserver', user: {} }],
      contexts: [{ name: 'webhook', context: { cluster: 'eks-authenticator', user: 'kube-apiserver' } }],
      'current-context': 'webhook',
    }),
  );
  say(`listening: webhook ${authenticatorUrl}, STS http://127.0.0.1:${stsPort}`);
  return {
    info: {
      clusterName: EKS.clusterName,
      region: EKS.region,
      stsEndpoint: `http://127.0.0.1:${stsPort}`,
      authenticatorUrl,
      credentials: { accessKeyId: broker.accessKeyId, secretAccessKey: broker.secretAccessKey, sessionToken: broker.sessionToken },
      brokerRoleArn: EKS.brokerRoleArn,
      brokerSessionArn: broker.arn,
      clusterAccessRoleArn: EKS.clusterAccessRoleArn,
      externalId: EKS.externalId,
      unmappedRoleArn: EKS.unmappedRoleArn,
      brokerGroup: EKS.brokerGroup,
      rejectSignedBeforeFile,
    },
    webhookKubeconfig,
    stop: async () => {
      await Promise.all([close(webhook), close(stsServer)]);
      await new Promise<void>((resolve) => log.end(() => resolve()));
    },
  };
}
