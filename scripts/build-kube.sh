#!/usr/bin/env bash
# Prepares the test bed's machine: the Debian packages it runs on (etcd, a Java 17 JDK for
# DynamoDB Local, openssl, kubectl) and kube-apiserver + kube-controller-manager, built once from
# Debian's `kubernetes` source package with Debian's Go and cached outside the repo, keyed by
# version. No registry ships these binaries, so this is the only offline-friendly way to get a
# real apiserver. Prints the cache directory on stdout (last line); everything else on stderr.
#
# This script owns the build lock: a second caller waits for the first build and reuses it.
# Environment (all optional; tests point them at temporary directories):
#   KUBELEASE_CACHE            cache root                   (default ~/.cache/kubelease)
#   KUBELEASE_APT_SOURCES_DIR  apt's sources.list.d         (default /etc/apt/sources.list.d)
#   KUBELEASE_APT_SOURCES_LIST apt's sources.list           (default /etc/apt/sources.list)
#   KUBELEASE_GOCODE_DIR       Debian's Go sources          (default /usr/share/gocode)
#   KUBELEASE_PROGRESS_SECONDS progress line interval       (default 30)
set -euo pipefail

CACHE_ROOT="${KUBELEASE_CACHE:-$HOME/.cache/kubelease}"
SOURCES_DIR="${KUBELEASE_APT_SOURCES_DIR:-/etc/apt/sources.list.d}"
SOURCES_LIST="${KUBELEASE_APT_SOURCES_LIST:-/etc/apt/sources.list}"
GOCODE_DIR="${KUBELEASE_GOCODE_DIR:-/usr/share/gocode}"
# A progress line at least this often while building or waiting for another build: the caller
# takes silence, not duration, as the sign of a hang (a loaded 2-core machine may build for 45 min).
PROGRESS_SECONDS="${KUBELEASE_PROGRESS_SECONDS:-30}"
LOG_DIR="$CACHE_ROOT/logs"
APT_LOG="$LOG_DIR/apt.log"
# Bump PATCH_LEVEL whenever the build below changes, so caches rebuild.
PATCH_LEVEL=kl1

log() { printf '[kubelease test bed] %s\n' "$*" >&2; }
# die STEP FIX [LOG]: one line naming the failed step and what to do, then the log's last lines.
die() {
  printf '[kubelease test bed] error: %s\n' "$1: $2${3:+ (log: $3)}" >&2
  if [ -n "${3:-}" ] && [ -s "$3" ]; then
    printf '[kubelease test bed] last lines of %s:\n' "$3" >&2
    tail -n 15 "$3" | sed 's/^/    /' >&2
  fi
  exit 1
}

mkdir -p "$CACHE_ROOT" "$LOG_DIR"
export DEBIAN_FRONTEND=noninteractive

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "checking privileges" "installing Debian packages needs root; run as root or install sudo"
  SUDO=(sudo -n)
fi
command -v flock >/dev/null 2>&1 || die "checking tools" "flock is missing; apt-get install util-linux"

# apt reads our sources directory only when it was overridden (hermetic tests, custom setups).
APT_OPTS=()
[ "$SOURCES_DIR" = /etc/apt/sources.list.d ] || APT_OPTS+=(-o "Dir::Etc::sourceparts=$SOURCES_DIR")
[ "$SOURCES_LIST" = /etc/apt/sources.list ] || APT_OPTS+=(-o "Dir::Etc::sourcelist=$SOURCES_LIST")

apt_ready=0
apt_update_once() {
  [ "$apt_ready" = 1 ] && return 0
  log "apt-get update"
  timeout 300 "${SUDO[@]}" apt-get "${APT_OPTS[@]}" -o DPkg::Lock::Timeout=120 update -q >>"$APT_LOG" 2>&1 \
    || die "apt-get update failed" "check that Debian's package mirror is reachable and the apt sources are valid" "$APT_LOG"
  apt_ready=1
}

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_debs() {
  local missing=() pkg
  for pkg in "$@"; do is_installed "$pkg" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_update_once
  log "installing Debian packages: ${missing[*]}"
  timeout 900 "${SUDO[@]}" apt-get "${APT_OPTS[@]}" -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" \
    >>"$APT_LOG" 2>&1 \
    || die "apt-get install ${missing[*]} failed" "check that Debian's package mirror is reachable" "$APT_LOG"
}

# What the bed runs on, whether or not a build is needed. A JDK (not just a JRE): the bed compiles
# a small launcher that binds DynamoDB Local to 127.0.0.1. kubectl for the client's tests.
# Another package's kubectl (say google-cloud-cli's) owns /usr/bin/kubectl: keep it, it would conflict.
runtime_debs=(etcd-server openssl ca-certificates curl)
command -v javac >/dev/null 2>&1 || runtime_debs+=(openjdk-17-jdk-headless)
command -v kubectl >/dev/null 2>&1 || runtime_debs+=(kubernetes-client)
ensure_debs "${runtime_debs[@]}"

# A complete build for this patch level, of any version: the fast path asks apt nothing.
cached_build() {
  local d
  for d in "$CACHE_ROOT"/kube-*-"$PATCH_LEVEL"; do
    [ -x "$d/kube-apiserver" ] && [ -x "$d/kube-controller-manager" ] && { echo "$d"; return 0; }
  done
  return 1
}
if dir="$(cached_build)"; then echo "$dir"; exit 0; fi

# One build at a time per cache: npm test, npm start and a manual run may race. Callers do not
# take this lock themselves (a second flock on the same file from the caller would deadlock).
exec 9>"$CACHE_ROOT/build.lock"
if ! flock -n 9; then
  log "another kube build is running on this cache; waiting for it to finish"
  waited=0
  until flock -w "$PROGRESS_SECONDS" 9; do
    waited=$((waited + PROGRESS_SECONDS))
    log "  still waiting for the other build (${waited}s)"
  done
fi
if dir="$(cached_build)"; then echo "$dir"; exit 0; fi

has_deb_src() {
  grep -rqsE '^Types:.*\bdeb-src\b' "$SOURCES_DIR"/ 2>/dev/null && return 0
  grep -qsE '^[[:space:]]*deb-src[[:space:]]' "$SOURCES_LIST" "$SOURCES_DIR"/*.list 2>/dev/null
}

# deb-src twins of this release's own `deb` entries (deb822 stanzas and one-line entries), so the
# mirror, keyring and suites are the ones this machine already trusts; Debian's defaults otherwise.
deb_src_entries() {
  local codename f stanzas line
  codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")" || codename=""
  codename="${codename:-bookworm}"
  stanzas="$(for f in "$SOURCES_DIR"/*.sources; do
    [ -f "$f" ] || continue
    awk -v cn="$codename" '
      function flush() { if (isdeb && suites ~ ("(^| )" cn "( |$)")) { print block; print "" } block = ""; isdeb = 0; suites = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^#/ { next }
      /^Types:/ { isdeb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/); block = block (block ? "\n" : "") "Types: deb-src"; next }
      /^Suites:/ { suites = $0; sub(/^Suites:[[:space:]]*/, "", suites) }
      { block = block (block ? "\n" : "") $0 }
      END { flush() }' "$f"
  done)"
  if [ -n "$stanzas" ]; then printf '%s\n' "$stanzas"; return 0; fi
  line="$(grep -hsE "^[[:space:]]*deb[[:space:]].*[[:space:]]$codename[[:space:]]" "$SOURCES_LIST" "$SOURCES_DIR"/*.list 2>/dev/null | head -1)" || true
  if [ -n "$line" ]; then
    echo "$line" | sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /'
    return 0
  fi
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$codename"
}

ensure_deb_src() {
  has_deb_src && return 0
  local entries target
  entries="$(deb_src_entries)"
  if printf '%s\n' "$entries" | grep -q '^Types:'; then target="$SOURCES_DIR/kubelease-src.sources"; else target="$SOURCES_DIR/kubelease-src.list"; fi
  log "no deb-src entry in the apt sources: adding $target (source packages of this release's own mirror)"
  printf '%s\n' "$entries" | "${SUDO[@]}" tee "$target" >/dev/null \
    || die "writing $target failed" "add a deb-src line for this release to the apt sources by hand"
  apt_ready=0
}

# apt-cache exits 100 while no deb-src entry exists: that is an answer here, not a failure.
source_version() { { apt-cache "${APT_OPTS[@]}" showsrc kubernetes 2>/dev/null || true; } | awk '/^Version:/ {print $2; exit}'; }

version="$(source_version)"
if [ -z "$version" ]; then
  ensure_deb_src
  apt_update_once
  version="$(source_version)"
fi
[ -n "$version" ] || die "apt-cache showsrc kubernetes found no source package" \
  "this needs Debian 12 (bookworm) with a deb-src entry; check the apt sources and run apt-get update" "$APT_LOG"

dest="$CACHE_ROOT/kube-$version-$PATCH_LEVEL"
ensure_debs golang-1.19-go dpkg-dev rsync make golang-github-modern-go-reflect2-dev

work="$(mktemp -d "${TMPDIR:-/tmp}/kubelease-kube-build.XXXXXX")"
BUILD_LOG="$LOG_DIR/kube-build.log"
: >"$BUILD_LOG"
trap 'rm -rf "$work" "$dest.tmp"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
log "fetching Debian source package kubernetes $version"
(cd "$work" && timeout 900 apt-get "${APT_OPTS[@]}" source --download-only -q kubernetes) >>"$BUILD_LOG" 2>&1 \
  || die "apt-get source kubernetes failed" "check that the deb-src entry's mirror is reachable" "$BUILD_LOG"
(cd "$work" && dpkg-source -x --no-check ./*.dsc src) >>"$BUILD_LOG" 2>&1 \
  || die "dpkg-source -x (unpacking the kubernetes source) failed" "free disk space in ${TMPDIR:-/tmp} and run again" "$BUILD_LOG"
gopath="$work/.go"
mkdir -p "$gopath/src/k8s.io"
mv "$work/src" "$gopath/src/k8s.io/kubernetes"
# The vendored reflect2 1.0.1 crashes under Go >= 1.18 (SIGSEGV in json-iterator whenever the
# apiserver pretty-prints a map: any curl User-Agent or ?pretty=true). Debian's 1.0.2 fixes it.
reflect2_src="$GOCODE_DIR/src/github.com/modern-go/reflect2"
reflect2_dst="$gopath/src/k8s.io/kubernetes/vendor/github.com/modern-go/reflect2"
[ -d "$reflect2_src" ] && [ -d "$reflect2_dst" ] \
  || die "patching reflect2 for Go >= 1.18" "apt-get install golang-github-modern-go-reflect2-dev"
rsync -a --delete --exclude '*_test.go' --exclude 'debian' "$reflect2_src/" "$reflect2_dst/" >>"$BUILD_LOG" 2>&1 \
  || die "patching reflect2 for Go >= 1.18" "see the log" "$BUILD_LOG"
log "building kube-apiserver and kube-controller-manager (first run only, 10-17 min on 2 cores; log: $BUILD_LOG)"
start=$(date +%s)
(
  cd "$gopath/src/k8s.io/kubernetes"
  export GOPATH="$gopath" GO111MODULE=off CGO_ENABLED=0 GOFLAGS= PATH="/usr/lib/go-1.19/bin:$PATH"
  export GOCACHE="$work/gocache" KUBE_GIT_VERSION="v${version%%+*}" KUBE_GIT_TREE_STATE=clean
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >>"$BUILD_LOG" 2>&1 &
  pid=$!
  next=$((start + PROGRESS_SECONDS))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -ge "$next" ]; then
      log "  still building ($(( $(date +%s) - start ))s)"
      next=$((next + PROGRESS_SECONDS))
    fi
  done
  wait "$pid"
) || die "make (the kube build) failed" "read the build log; free disk space or memory and run again" "$BUILD_LOG"
mkdir -p "$dest.tmp"
find "$gopath/src/k8s.io/kubernetes/_output" -type f \( -name kube-apiserver -o -name kube-controller-manager \) \
  -exec cp {} "$dest.tmp/" \;
[ -x "$dest.tmp/kube-apiserver" ] && [ -x "$dest.tmp/kube-controller-manager" ] \
  || die "the kube build produced no binaries" "read the build log" "$BUILD_LOG"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
log "built in $(( $(date +%s) - start ))s, cached in $dest"
# Deleting the multi-GB work tree takes minutes on a busy disk: do it behind the caller's back,
# holding neither our pipes nor the build lock (fd 9).
trap - EXIT
( rm -rf "$work" ) </dev/null >/dev/null 2>&1 9>&- &
echo "$dest"
