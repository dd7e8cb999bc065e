# shellcheck shell=bash
# Sourced by the packaging test's scripts (tests/packaging/*.sh). Shared settings: the cache
# outside the clone, the Debian mirror this machine uses, logging, and the rule of
# tests/lib/require.sh (a missing prerequisite skips locally and fails under CI=true).

packaging_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
release_dir="$(cd "${packaging_here}/../.." && pwd)"
# shellcheck source=../lib/require.sh
source "${release_dir}/tests/lib/require.sh"

# Everything kept between runs: the stemcell-like chroot and the source tarballs. Never inside
# the clone; override with SECURE_POSTGRES_PACKAGING_CACHE.
packaging_cache="${SECURE_POSTGRES_PACKAGING_CACHE:-/var/cache/secure-postgres-packaging}"
# The Debian release the chroot is built from (Ubuntu's archive is not reachable from here).
packaging_suite=bookworm

log() { echo "packaging: $*" >&2; }
die() {
  echo "packaging: FAIL: $*" >&2
  exit 1
}

# The URL of the Debian archive this machine's apt uses, read at run time (never committed):
# the first URIs of a deb822 stanza or sources.list line that serves ${packaging_suite}.
debian_mirror() {
  local file url
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    url="$(awk -v suite="$packaging_suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; ok = 0; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); uris = u[2] }
          if ($i ~ /^Suites:/ && (" " $i " ") ~ (" " suite " ")) ok = 1
          if ($i ~ /^Types:/ && $i ~ /(^|[ \t])deb([ \t]|$)/) deb = 1
        }
        if (ok && deb && uris != "") { print uris; exit }
      }' "$file")"
    [ -n "$url" ] && { echo "$url"; return 0; }
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    url="$(awk -v suite="$packaging_suite" '$1 == "deb" && $0 !~ /security/ {
             for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == suite) { print $i; exit } } }' "$file")"
    [ -n "$url" ] && { echo "$url"; return 0; }
  done
  return 1
}

# Serialises the steps that write the shared cache (two test runs at once build nothing twice).
cache_lock() {
  mkdir -p "$packaging_cache"
  exec {packaging_lock_fd}>"${packaging_cache}/.lock"
  flock "$packaging_lock_fd"
}
cache_unlock() {
  flock -u "$packaging_lock_fd"
}

# chroot_run [--network] [--overlay <run-dir>] <root> <command...>
# Runs a command chrooted into <root> in private mount, PID and (unless --network) network
# namespaces, with its own /proc and a minimal /dev; every mount disappears with the command.
# With --overlay, <root> stays untouched: the command sees an overlay of it whose writes land in
# <run-dir>/upper (the cached chroot is shared by every run and never modified by one).
chroot_run() {
  local network=--net overlay=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --network) network=""; shift ;;
      --overlay) overlay="$2"; shift 2 ;;
      *) break ;;
    esac
  done
  local root="$1"
  shift
  # shellcheck disable=SC2016
  unshare --mount --pid --fork --kill-child $network --propagation private /bin/bash -c '
    set -e
    root="$1" overlay="$2"
    shift 2
    if [ -n "$overlay" ]; then
      mkdir -p "$overlay/upper" "$overlay/work" "$overlay/merged"
      mount -t overlay overlay -o "lowerdir=$root,upperdir=$overlay/upper,workdir=$overlay/work" "$overlay/merged"
      root="$overlay/merged"
    fi
    mount -t proc proc "$root/proc"
    mount -t tmpfs -o mode=0755,nosuid tmpfs "$root/dev"
    for node in null zero full random urandom tty; do
      touch "$root/dev/$node"
      mount --bind "/dev/$node" "$root/dev/$node"
    done
    ln -s /proc/self/fd "$root/dev/fd"
    ln -s /proc/self/fd/0 "$root/dev/stdin"
    ln -s /proc/self/fd/1 "$root/dev/stdout"
    ln -s /proc/self/fd/2 "$root/dev/stderr"
    mkdir "$root/dev/shm" "$root/dev/pts"
    mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
    exec chroot "$root" "$@"
  ' chroot_run "$root" "$overlay" "$@"
}
