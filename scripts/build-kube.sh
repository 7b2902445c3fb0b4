#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager once from Debian's `kubernetes`
# source package with Debian's Go, and caches them outside the repo, keyed by version.
# No registry ships these binaries, so this is the only offline-friendly way to get a
# real apiserver. Prints the cache directory on stdout (last line).
set -euo pipefail

CACHE_ROOT="${KUBELEASE_CACHE:-$HOME/.cache/kubelease}"
log() { printf '[kubelease test bed] %s\n' "$*" >&2; }
die() { printf '[kubelease test bed] error: %s\n' "$*" >&2; exit 1; }

SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive

apt_ready=0
apt_update_once() {
  [ "$apt_ready" = 1 ] && return 0
  log "apt-get update"
  timeout 300 "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=120 update -q >/tmp/kubelease-apt.log 2>&1 \
    || die "apt-get update failed (see /tmp/kubelease-apt.log): check that Debian's package mirror is reachable"
  apt_ready=1
}

ensure_debs() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_update_once
  log "installing Debian packages: ${missing[*]}"
  timeout 900 "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" \
    >>/tmp/kubelease-apt.log 2>&1 \
    || die "apt-get install ${missing[*]} failed (see /tmp/kubelease-apt.log): check that Debian's package mirror is reachable"
}

ensure_deb_src() {
  local list=/etc/apt/sources.list.d/kubelease-src.sources
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    log "adding a deb-src entry for Debian bookworm"
    "${SUDO[@]}" tee "$list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_ready=0
  fi
  apt_update_once
}

ensure_debs etcd-server openssl ca-certificates
source_version() { apt-cache showsrc kubernetes 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }
version="$(source_version)"
if [ -z "$version" ]; then
  ensure_deb_src
  version="$(source_version)"
fi
[ -n "$version" ] || die "apt-cache showsrc kubernetes found nothing: is a deb-src line for bookworm present?"
# Bump PATCH_LEVEL whenever the patches below change, so caches rebuild.
PATCH_LEVEL=kl1
dest="$CACHE_ROOT/kube-$version-$PATCH_LEVEL"
if [ -x "$dest/kube-apiserver" ] && [ -x "$dest/kube-controller-manager" ]; then
  echo "$dest"; exit 0
fi

# One build at a time per cache (npm test, npm start and a manual run may race).
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if [ -x "$dest/kube-apiserver" ] && [ -x "$dest/kube-controller-manager" ]; then
  echo "$dest"; exit 0
fi

ensure_debs golang-1.19-go dpkg-dev rsync make golang-github-modern-go-reflect2-dev
work="$(mktemp -d "${TMPDIR:-/tmp}/kubelease-kube-build.XXXXXX")"
trap 'rm -rf "$work" "$dest.tmp"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
log "fetching Debian source package kubernetes $version"
(cd "$work" && timeout 900 apt-get source --download-only -q kubernetes >"$work/src.log" 2>&1) \
  || die "apt-get source kubernetes failed (see $work/src.log)"
(cd "$work" && dpkg-source -x --no-check ./*.dsc src >>"$work/src.log" 2>&1) || die "dpkg-source -x failed"
gopath="$work/.go"
mkdir -p "$gopath/src/k8s.io"
mv "$work/src" "$gopath/src/k8s.io/kubernetes"
# The vendored reflect2 1.0.1 crashes under Go >= 1.18 (SIGSEGV in json-iterator whenever the
# apiserver pretty-prints a map: any curl User-Agent or ?pretty=true). Debian's 1.0.2 fixes it.
reflect2_src=/usr/share/gocode/src/github.com/modern-go/reflect2
reflect2_dst="$gopath/src/k8s.io/kubernetes/vendor/github.com/modern-go/reflect2"
[ -d "$reflect2_src" ] && [ -d "$reflect2_dst" ] || die "reflect2 sources not found for the Go 1.18+ fix"
rsync -a --delete --exclude '*_test.go' --exclude 'debian' "$reflect2_src/" "$reflect2_dst/"
log "building kube-apiserver and kube-controller-manager (first run only, 10-16 min on 2 cores)"
start=$(date +%s)
(
  cd "$gopath/src/k8s.io/kubernetes"
  export GOPATH="$gopath" GO111MODULE=off CGO_ENABLED=0 GOFLAGS= PATH="/usr/lib/go-1.19/bin:$PATH"
  export GOCACHE="$work/gocache" KUBE_GIT_VERSION="v${version%%+*}" KUBE_GIT_TREE_STATE=clean
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$work/build.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null && log "  still building ($(( $(date +%s) - start ))s)"
  done
  wait "$pid"
) || { tail -40 "$work/build.log" >&2; die "kube build failed (log above)"; }
mkdir -p "$dest.tmp"
find "$gopath/src/k8s.io/kubernetes/_output" -type f \( -name kube-apiserver -o -name kube-controller-manager \) \
  -exec cp {} "$dest.tmp/" \;
[ -x "$dest.tmp/kube-apiserver" ] && [ -x "$dest.tmp/kube-controller-manager" ] || die "build produced no binaries"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
log "built in $(( $(date +%s) - start ))s, cached in $dest"
echo "$dest"
