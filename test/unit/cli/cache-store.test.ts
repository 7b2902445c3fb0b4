/** The disk cache: private directory and files, refusals with warnings, corrupt files, atomic writes. */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir, checkDir, entryPath, readEntry, writeEntry, type CacheEntry } from '../../../lib/cli/cache/store.js';

const entry: CacheEntry = {
  v: 1,
  token: 'tok',
  issued_at: 1_000,
  expires_at: 3_601_000,
  lease_id: 'm/creds/r/abc',
  namespace: 'default',
  service_account: 'kl-r-x',
  kubernetes_host: 'https://127.0.0.1:6443',
  kubernetes_ca_cert: 'PEM',
};
const KEY = { id: 'a'.repeat(16), material: '["kubelease-exec-v1","one"]' };
/** only root can give a file away to another uid */
const asRoot = process.getuid?.() === 0 ? it : it.skip;

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'kl-cache-'));
  dir = path.join(root, 'cache', 'kubelease');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('cacheDir', () => {
  it('lives under $KUBECACHEDIR, else ~/.kube/cache', () => {
    expect(cacheDir({ KUBECACHEDIR: '/c' })).toBe('/c/kubelease');
    expect(cacheDir({ HOME: '/home/u' })).toBe('/home/u/.kube/cache/kubelease');
  });
});

describe('checkDir', () => {
  it('creates the directory 0700', () => {
    expect(checkDir(dir, true)).toBeUndefined();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
  it('reports a directory it cannot use', () => {
    writeFileSync(path.join(root, 'file'), '');
    const under = path.join(root, 'file', 'kubelease');
    expect(checkDir(under, true)).toBe(`cache directory ${under} cannot be used (ENOTDIR)`);
  });

  it('refuses a directory with group/other bits', () => {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    expect(checkDir(dir, true)).toBe(`cache directory ${dir} has mode 0755 (group/other bits set)`);
  });
  it('refuses a symlink in place of the directory and a missing one when not creating', () => {
    expect(checkDir(dir, false)).toBe(`cache directory ${dir} is missing`);
    mkdirSync(path.join(root, 'elsewhere'), { mode: 0o700 });
    mkdirSync(path.dirname(dir), { recursive: true });
    symlinkSync(path.join(root, 'elsewhere'), dir);
    expect(checkDir(dir, true)).toBe(`cache directory ${dir} is not a directory`);
  });
  asRoot('refuses a directory of another user', () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, 4242, 4242);
    expect(checkDir(dir, true)).toBe(`cache directory ${dir} belongs to uid 4242, not to you`);
  });
});

describe('entries', () => {
  beforeEach(() => checkDir(dir, true));

  it('round-trips with mode 0600 and leaves no temp file', () => {
    writeEntry(dir, KEY, entry);
    expect(statSync(entryPath(dir, KEY)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([`${KEY.id}.json`]);
    expect(JSON.parse(readFileSync(entryPath(dir, KEY), 'utf8'))).toEqual({ ...entry, key: KEY.material });
    expect(readEntry(dir, KEY)).toEqual({ kind: 'entry', entry });
  });

  it('reports an absent entry', () => {
    expect(readEntry(dir, KEY)).toEqual({ kind: 'absent' });
  });

  it('treats an entry of another key with the same file name (a hash collision) as absent', () => {
    writeEntry(dir, { id: KEY.id, material: '["kubelease-exec-v1","other"]' }, entry);
    expect(readEntry(dir, KEY)).toEqual({ kind: 'absent' });
  });

  it('ignores a corrupt file with a warning', () => {
    const stored = { ...entry, key: KEY.material };
    for (const text of ['{not json', '{"v":1}', JSON.stringify(entry), JSON.stringify({ ...stored, expires_at: 0 }), JSON.stringify({ ...stored, token: '' }), '']) {
      writeFileSync(entryPath(dir, KEY), text, { mode: 0o600 });
      expect(readEntry(dir, KEY)).toEqual({ kind: 'refused', warning: `cache file ${entryPath(dir, KEY)} is corrupt: ignored` });
    }
  });

  it('refuses a file other users could read', () => {
    writeEntry(dir, KEY, entry);
    chmodSync(entryPath(dir, KEY), 0o644);
    expect(readEntry(dir, KEY)).toEqual({ kind: 'refused', warning: `cache file ${entryPath(dir, KEY)} has mode 0644 (group/other bits set): ignored` });
  });

  it('refuses a symlink planted in place of an entry', () => {
    writeFileSync(path.join(root, 'other.json'), JSON.stringify(entry), { mode: 0o600 });
    symlinkSync(path.join(root, 'other.json'), entryPath(dir, KEY));
    expect(readEntry(dir, KEY)).toEqual({ kind: 'refused', warning: `cache file ${entryPath(dir, KEY)} cannot be opened (ELOOP): ignored` });
  });

  asRoot('refuses a file of another user', () => {
    writeEntry(dir, KEY, entry);
    chownSync(entryPath(dir, KEY), 4242, 4242);
    expect(readEntry(dir, KEY)).toEqual({ kind: 'refused', warning: `cache file ${entryPath(dir, KEY)} belongs to uid 4242, not to you: ignored` });
  });

  it('replaces a refused file with a private one on the next write', () => {
    writeFileSync(entryPath(dir, KEY), 'junk', { mode: 0o666 });
    chmodSync(entryPath(dir, KEY), 0o666);
    writeEntry(dir, KEY, entry);
    expect(statSync(entryPath(dir, KEY)).mode & 0o777).toBe(0o600);
    expect(readEntry(dir, KEY)).toEqual({ kind: 'entry', entry });
  });
});
