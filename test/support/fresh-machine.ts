/**
 * A brand-new machine for scripts/build-kube.sh, in a temp dir: stub `apt-get`, `apt-cache`,
 * `dpkg-query`, `dpkg-source`, `rsync`, `make` and `sudo` first on PATH, an apt sources directory
 * without any deb-src entry, an empty cache and an empty Go sources tree. The stubs record every
 * call in calls.log and emulate apt: `apt-cache showsrc` exits 100 until a deb-src source exists.
 * Knobs (environment of the script): STUB_MISSING_PKGS, STUB_APT_UPDATE_EXIT,
 * STUB_APT_INSTALL_EXIT, STUB_APT_SOURCE_EXIT, STUB_MAKE_EXIT, STUB_MAKE_SECONDS.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STUBS: Record<string, string> = {
  'apt-cache': `#!/bin/sh
echo "apt-cache $*" >> "$STUB_CALLS"
if [ "$1" = showsrc ] || [ "$3" = showsrc ] || [ "$5" = showsrc ]; then
  grep -rqs '^Types:.*deb-src' "$KUBELEASE_APT_SOURCES_DIR"/ || grep -qs '^deb-src' "$KUBELEASE_APT_SOURCES_DIR"/*.list || exit 100
  printf 'Package: kubernetes\\nVersion: 9.9.9-stub\\n'
fi
exit 0
`,
  'apt-get': `#!/bin/sh
echo "apt-get $*" >> "$STUB_CALLS"
for a in "$@"; do
  case "$a" in
    update) echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease" >&2; exit "\${STUB_APT_UPDATE_EXIT:-0}" ;;
    install) [ "\${STUB_APT_INSTALL_EXIT:-0}" = 0 ] || { echo "E: Unable to locate package etcd-server" >&2; exit "$STUB_APT_INSTALL_EXIT"; }; exit 0 ;;
    source) [ "\${STUB_APT_SOURCE_EXIT:-0}" = 0 ] || { echo "E: You must put some 'deb-src' URIs in your sources.list" >&2; exit "$STUB_APT_SOURCE_EXIT"; }
            : > kubernetes_9.9.9-stub.dsc; exit 0 ;;
  esac
done
exit 0
`,
  'dpkg-query': `#!/bin/sh
for p; do :; done
for m in $STUB_MISSING_PKGS; do [ "$m" = "$p" ] && { printf 'unknown ok not-installed'; exit 0; }; done
printf 'install ok installed'
`,
  'dpkg-source': `#!/bin/sh
echo "dpkg-source $*" >> "$STUB_CALLS"
for d; do :; done
mkdir -p "$d/vendor/github.com/modern-go/reflect2" && : > "$d/Makefile"
`,
  rsync: `#!/bin/sh
exit 0
`,
  make: `#!/bin/sh
echo "make $*" >> "$STUB_CALLS"
sleep "\${STUB_MAKE_SECONDS:-0}"
if [ "\${STUB_MAKE_EXIT:-0}" != 0 ]; then
  echo "k8s.io/kubernetes/cmd/kube-apiserver: compile: out of memory (stub)"
  exit "$STUB_MAKE_EXIT"
fi
mkdir -p _output/bin
for b in kube-apiserver kube-controller-manager; do printf '#!/bin/sh\\necho stub\\n' > "_output/bin/$b"; chmod +x "_output/bin/$b"; done
`,
  sudo: `#!/bin/sh
[ "$1" = -n ] && shift
exec "$@"
`,
};

export interface FreshMachine {
  root: string;
  cache: string;
  sourcesDir: string;
  /** environment for the script: stubs first on PATH, every directory overridden */
  env: NodeJS.ProcessEnv;
  /** the recorded calls, one line each ("apt-get update -q", "make WHAT=...") */
  calls(): string[];
  cleanup(): void;
}

export function freshMachine(knobs: Record<string, string> = {}): FreshMachine {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kubelease-fresh-'));
  const bin = path.join(root, 'bin');
  const cache = path.join(root, 'cache');
  const sourcesDir = path.join(root, 'sources.list.d');
  const gocode = path.join(root, 'gocode');
  for (const d of [bin, sourcesDir, path.join(gocode, 'src', 'github.com', 'modern-go', 'reflect2')]) mkdirSync(d, { recursive: true });
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(path.join(bin, name), body);
    chmodSync(path.join(bin, name), 0o755);
  }
  // a stock Debian 12 image: binary packages only, no deb-src anywhere
  writeFileSync(
    path.join(sourcesDir, 'debian.sources'),
    'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
  );
  const callsFile = path.join(root, 'calls.log');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    KUBELEASE_CACHE: cache,
    KUBELEASE_APT_SOURCES_DIR: sourcesDir,
    KUBELEASE_APT_SOURCES_LIST: path.join(root, 'sources.list'),
    KUBELEASE_GOCODE_DIR: gocode,
    STUB_CALLS: callsFile,
    ...knobs,
  };
  return {
    root,
    cache,
    sourcesDir,
    env,
    calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean) : []),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
