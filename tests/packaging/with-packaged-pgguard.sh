#!/usr/bin/env bash
# Runs CTest with the helpers of a compiled pgguard package in place of the ones the build
# compiled: builds a separate build tree, copies each BIN/pgguard-<x> of the package over
# src/programs/<x>/pgguard-<x> there, and runs ctest in it (ctest does not rebuild, so every
# test that runs a helper runs the packaged one; the unit tests test the library itself).
#
# Usage (root, as the integration tests need):
#   tests/packaging/compile.sh --keep /var/tmp/packaged pgguard
#   tests/packaging/with-packaged-pgguard.sh /var/tmp/packaged/pgguard -L 'unit|integration'
# The build tree is /var/tmp/secure-postgres-packaged-build, or $PACKAGED_BUILD_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

package="${1:?usage: tests/packaging/with-packaged-pgguard.sh PGGUARD_PACKAGE_DIR [ctest arguments...]}"
shift
[ -x "${package}/bin/pgguard-launch" ] || die "${package} holds no compiled pgguard package (bin/pgguard-launch missing)"
build="${PACKAGED_BUILD_DIR:-/var/tmp/secure-postgres-packaged-build}"

"${release_dir}/scripts/build" "$build"
for helper in "${package}"/bin/pgguard-*; do
  name="$(basename "$helper")"
  target="${build}/src/programs/${name#pgguard-}/${name}"
  [ -f "$target" ] || die "the build has no ${target} to replace with ${helper}"
  cp "$helper" "$target"
  log "${target#"${build}"/} <- ${helper} ($(sha256sum "$helper" | cut -c1-12))"
done
cd "$build"
exec ctest --output-on-failure "$@"
