#!/usr/bin/env bash
# Builds (once) and prints the path of the stemcell-like compilation chroot: Debian 12 minbase
# plus tests/packaging/stemcell-packages.txt, installed the way the stemcell builder installs
# its packages (apt-get --no-install-recommends). Cached under the packaging cache as
# chroot-<key>, where the key hashes the package list and this script, so a changed list builds
# a new chroot. Built under a temporary name and renamed when complete: a run that dies halfway
# leaves only a .building-* directory, which the next build removes.
#
# Usage: tests/packaging/chroot.sh   (root; prints the chroot's path on stdout)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_command debootstrap unshare chroot flock sha256sum

list="${packaging_here}/stemcell-packages.txt"
# Packages a stemcell's compilation VM does not have: finding one in the chroot would let a
# packaging script rely on it and pass here while failing on a real director.
forbidden=(pkg-config pkgconf libpkgconf-dev libseccomp-dev libmnl-dev libnftnl-dev libselinux1-dev
  libsemanage-dev libsepol-dev libpcre2-dev libaudit-dev libboost-dev libboost-program-options-dev
  libpq-dev postgresql-common postgresql-server-dev-all pgpool2)

key="$(cat "$list" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"
chroot_dir="${packaging_cache}/chroot-${packaging_suite}-${key}"

if [ -f "${chroot_dir}/.complete" ]; then
  echo "$chroot_dir"
  exit 0
fi

cache_lock
if [ -f "${chroot_dir}/.complete" ]; then
  echo "$chroot_dir"
  exit 0
fi

mirror="$(debian_mirror)" || missing_prerequisite "a Debian ${packaging_suite} mirror in /etc/apt (debootstrap needs one)"
# Leftovers of an interrupted build and chroots of older package lists.
rm -rf "${packaging_cache}"/.building-chroot-* "${chroot_dir}"
find "$packaging_cache" -maxdepth 1 -name "chroot-${packaging_suite}-*" ! -name "chroot-${packaging_suite}-${key}" \
  -exec rm -rf {} +

building="${packaging_cache}/.building-chroot-${key}-$$"
log "building the stemcell-like chroot in ${building} (debootstrap ${packaging_suite} minbase; a few minutes, once)"
started=$SECONDS
if ! debootstrap --variant=minbase "$packaging_suite" "$building" "$mirror" >"${packaging_cache}/debootstrap.log" 2>&1; then
  tail -n 20 "${packaging_cache}/debootstrap.log" >&2
  missing_prerequisite "debootstrap of ${packaging_suite} from the configured mirror failed (log: ${packaging_cache}/debootstrap.log)"
fi

# apt inside the chroot reaches the archive the way this machine's apt does: the same sources
# and the same Acquire settings (proxies, validity checks), copied at run time, never committed.
rm -f "${building}/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "${building}/etc/apt/sources.list.d/" 2>/dev/null || true
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "${building}/etc/apt/sources.list"
apt-config dump Acquire >"${building}/etc/apt/apt.conf.d/90host-acquire"
cp /etc/resolv.conf "${building}/etc/resolv.conf"

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | sed '/^$/d')
install_script='
set -e
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$@"
apt-get clean
rm -rf /var/lib/apt/lists/*
'
if ! chroot_run --network "$building" /bin/bash -c "$install_script" install "${packages[@]}" \
  >"${packaging_cache}/chroot-install.log" 2>&1; then
  tail -n 20 "${packaging_cache}/chroot-install.log" >&2
  die "installing the stemcell's build packages into the chroot failed (log: ${packaging_cache}/chroot-install.log)"
fi

for package in "${forbidden[@]}"; do
  if chroot "$building" dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    die "the chroot holds ${package}, which a stemcell's compilation VM does not; fix ${list}"
  fi
done
if chroot "$building" /bin/sh -c 'command -v pkg-config' >/dev/null 2>&1; then
  die "the chroot has a pkg-config, which a stemcell's compilation VM does not; fix ${list}"
fi

chroot "$building" dpkg-query -W -f='${Package} ${Version}\n' >"${building}/.dpkg-list"
touch "${building}/.complete"
mv "$building" "$chroot_dir"
cache_unlock
log "chroot ready in $((SECONDS - started)) s: ${chroot_dir} ($(wc -l <"${chroot_dir}/.dpkg-list") Debian packages)"
echo "$chroot_dir"
