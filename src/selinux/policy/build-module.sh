#!/usr/bin/env bash
# Compiles the secure_postgres policy module with the reference policy's devel Makefile
# (Debian: selinux-policy-dev). One recipe for the BOSH package and the CMake build.
# Usage: build-module.sh OUTPUT_DIR   -> OUTPUT_DIR/secure_postgres.pp
set -euo pipefail

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
output_dir="$1"
devel_makefile=/usr/share/selinux/devel/Makefile

if [ ! -f "$devel_makefile" ]; then
  echo "build-module: $devel_makefile not found (install selinux-policy-dev)" >&2
  exit 1
fi

mkdir -p "$output_dir"
work="$(mktemp -d "$output_dir/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp "$source_dir"/secure_postgres.te "$source_dir"/secure_postgres.fc "$source_dir"/secure_postgres.if "$work"/

# The Makefile prints m4 warnings for quoting mistakes but still succeeds; treat them as errors,
# they silently change the policy (an apostrophe in a comment swallows the rules after it).
if ! make -C "$work" -f "$devel_makefile" secure_postgres.pp >"$work/build.log" 2>&1 ||
  grep -q '^m4:' "$work/build.log"; then
  cat "$work/build.log" >&2
  echo "build-module: compiling secure_postgres.pp failed" >&2
  exit 1
fi
mv "$work/secure_postgres.pp" "$output_dir/secure_postgres.pp"
