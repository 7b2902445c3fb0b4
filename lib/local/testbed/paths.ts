/** Where the test bed finds the repository, its manifests and its cache. */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// this file lives in lib/local/testbed/: the repository root is three levels up
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BROKER_RBAC_MANIFEST = path.join(REPO_ROOT, 'deploy', 'kubernetes', 'broker-rbac.yaml');

export const cacheRoot = (env: NodeJS.ProcessEnv = process.env): string => env.KUBELEASE_CACHE || path.join(os.homedir(), '.cache', 'kubelease');
/** pidfiles of running beds (see pidfile.ts) */
export const runDir = (): string => path.join(cacheRoot(), 'run');
