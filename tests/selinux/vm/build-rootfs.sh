#!/usr/bin/env bash
# Builds (once) the guest's Debian 12 root filesystem with debootstrap from the mirror this
# machine's apt uses, and caches it as a tarball keyed by everything that goes into it.
# Usage: build-rootfs.sh CACHE_DIR   -> prints the tarball's path on stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=debian-mirror.sh
. "$here/debian-mirror.sh"

cache_dir="$1"
suite=bookworm
# The guest needs: the reference policy and its tools (load_policy, setfiles, semodule store),
# PostgreSQL 15 to run confined, and the shared libraries the pgguard programs link against.
packages=(
  selinux-policy-default policycoreutils selinux-utils semodule-utils
  postgresql-15 postgresql-client-15
  libboost-program-options1.74.0 libseccomp2 libcap2 libnftnl11 libmnl0 libselinux1 libsemanage2
  procps iproute2
)

mirror="$(debian_mirror "$suite")" || {
  echo "build-rootfs: cannot find a '$suite' deb source in /etc/apt/sources.list*" >&2
  exit 1
}

key="$(printf '%s\n' "v1" "$mirror" "$suite" "${packages[@]}" | sha256sum | cut -c1-16)"
tarball="$cache_dir/rootfs-$suite-$key.tar"
mkdir -p "$cache_dir"

exec 9>"$cache_dir/rootfs.lock"
flock 9
if [ -s "$tarball" ]; then
  echo "$tarball"
  exit 0
fi

work="$(mktemp -d "$cache_dir/debootstrap.XXXXXX")"
cleanup() {
  # debootstrap mounts proc/sys inside the target while it configures packages; a failed run
  # can leave them behind, and rm must never descend into a live /proc.
  local mount_point
  for mount_point in $(awk -v root="$work/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$mount_point" || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

echo "build-rootfs: debootstrap $suite from $mirror (first run only; cached in $cache_dir)" >&2
include="$(IFS=,; echo "${packages[*]}")"
if ! debootstrap --variant=minbase --include="$include" "$suite" "$work/root" "$mirror" \
  >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  cat "$work/root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
  echo "build-rootfs: debootstrap failed" >&2
  exit 1
fi
# The package's own cluster is not the one under test; drop it and the apt caches (size).
rm -rf "$work/root/var/lib/postgresql/15/main" "$work/root/etc/postgresql/15/main" \
  "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*_Packages
tar -C "$work/root" --numeric-owner -cf "$tarball.partial" .
mv "$tarball.partial" "$tarball"
echo "$tarball"
