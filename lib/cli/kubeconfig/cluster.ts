import { readFileSync } from 'node:fs';
import { CliError } from '../core/errors.js';
import type { ClusterInfo } from './render.js';

/** Server and CA from a creds response (its additive fields), or from --server/--ca-file. */
export function clusterInfo(fromBroker: { kubernetes_host?: string | undefined; kubernetes_ca_cert?: string | undefined }, override?: { server?: string | undefined; caFile?: string | undefined }): ClusterInfo {
  const server = override?.server ?? fromBroker.kubernetes_host ?? '';
  if (!server) throw new CliError('the broker did not say where the cluster is (no kubernetes_host in the creds response)', 1, 'pass --server URL (and --ca-file FILE), or upgrade the broker');
  let caPem = fromBroker.kubernetes_ca_cert ?? '';
  if (override?.caFile) {
    try {
      caPem = readFileSync(override.caFile, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read --ca-file ${override.caFile} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 1, 'give a PEM file');
    }
  } else if (override?.server) {
    caPem = '';
  }
  return { server, caPem };
}
