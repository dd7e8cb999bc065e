#!/usr/bin/env bash
# (a) The module compiles with the reference policy's devel Makefile, reproducibly (the loader
# decides "unchanged" by hash), and the build refuses m4 quoting mistakes.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
require_command make m4 checkmodule semodule_package
[ -f /usr/share/selinux/devel/Makefile ] || missing_prerequisite "selinux-policy-dev"

work="$(mktemp -d /tmp/pgguard-selinux-compile.XXXXXX)"
trap 'rm -rf "$work"' EXIT

if bash "$PGGUARD_SOURCE_DIR/src/selinux/policy/build-module.sh" "$work/a" >"$work/a.log" 2>&1; then
  pass "secure_postgres.pp compiles"
else
  cat "$work/a.log" >&2
  fail "secure_postgres.pp does not compile"
  finish
fi
# Header: module name as the loader expects it (package magic 0xf97cff8f, then the module name).
if [ "$(head -c 4 "$work/a/secure_postgres.pp" | od -An -tx1 | tr -d ' \n')" = "8fff7cf9" ] &&
  grep -aq secure_postgres "$work/a/secure_postgres.pp"; then
  pass "the package is a module package named secure_postgres"
else
  fail "the package header is not a secure_postgres module package"
fi

bash "$PGGUARD_SOURCE_DIR/src/selinux/policy/build-module.sh" "$work/b" >/dev/null 2>&1
if cmp -s "$work/a/secure_postgres.pp" "$work/b/secure_postgres.pp"; then
  pass "two builds give identical bytes"
else
  fail "two builds of the same sources differ: every deploy would reinstall the module"
fi
if [ -n "${SECURE_POSTGRES_PP:-}" ] && [ -s "$SECURE_POSTGRES_PP" ]; then
  if cmp -s "$work/a/secure_postgres.pp" "$SECURE_POSTGRES_PP"; then
    pass "the CMake-built module is the one from the current sources"
  else
    fail "the CMake-built $SECURE_POSTGRES_PP is stale"
  fi
fi

# The BOSH package: files laid out from the spec's globs (relative to src/), packaging run as
# BOSH runs it (bash -x, BOSH_* variables, a minimal PATH), the same bytes come out.
package_dir="$PGGUARD_SOURCE_DIR/packages/secure-postgres-selinux"
mkdir -p "$work/bosh/compile" "$work/bosh/install"
while IFS= read -r glob; do
  for file in $(cd "$PGGUARD_SOURCE_DIR/src" && compgen -G "$glob" || true); do
    mkdir -p "$work/bosh/compile/$(dirname "$file")"
    cp "$PGGUARD_SOURCE_DIR/src/$file" "$work/bosh/compile/$file"
  done
done < <(sed -n '/^files:/,/^[a-z]/s/^- //p' "$package_dir/spec")
if (cd "$work/bosh/compile" && env -i PATH=/usr/local/bin:/usr/bin:/bin \
  BOSH_COMPILE_TARGET="$work/bosh/compile" BOSH_INSTALL_TARGET="$work/bosh/install" \
  BOSH_PACKAGE_NAME=secure-postgres-selinux BOSH_PACKAGE_VERSION=test \
  bash -x "$package_dir/packaging" >"$work/bosh.log" 2>&1) &&
  cmp -s "$work/bosh/install/secure_postgres.pp" "$work/a/secure_postgres.pp"; then
  pass "the BOSH packaging script builds the same module from the spec's files"
else
  tail -n 20 "$work/bosh.log" >&2
  fail "the BOSH packaging script does not build the module"
fi

# An apostrophe in a .te comment closes m4's quoting and silently drops rules: must fail.
mkdir -p "$work/quote"
cp "$PGGUARD_SOURCE_DIR"/src/selinux/policy/secure_postgres.{te,fc,if} \
  "$PGGUARD_SOURCE_DIR"/src/selinux/policy/build-module.sh "$work/quote/"
sed -i "s|^\t# Names: |\t# the server's names: |" "$work/quote/secure_postgres.te"
grep -q "server's names" "$work/quote/secure_postgres.te" || fail "could not plant the quoting mistake"
if bash "$work/quote/build-module.sh" "$work/quote/out" >"$work/quote.log" 2>&1; then
  fail "a module with an m4 quoting mistake compiled"
else
  pass "an m4 quoting mistake fails the build"
fi
finish
