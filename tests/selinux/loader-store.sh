#!/usr/bin/env bash
# pgguard-selinux against a sandbox copy of Debian's policy store: installs once, does nothing
# when the content is unchanged, upgrades on a change, and on bad input (corrupt package,
# mismatched name, a module the policy refuses, no store) fails with a clear error, a
# non-zero exit and the previously installed module still in the store. On a host without
# SELinux: one notice and exit 0, or exit 4 with --required.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_selinux_tools

work="$(mktemp -d /tmp/pgguard-selinux-loader.XXXXXX)"
trap 'rm -rf "$work"' EXIT
store="$work/store"
make_sandbox_store "$store"
loader() { "$PGGUARD_SELINUX" "$@"; }

expect() {  # CODE OUTPUT-PATTERN DESCRIPTION -- COMMAND...
  local code="$1" pattern="$2" description="$3"
  shift 4
  local actual=0
  "$@" >"$work/out" 2>&1 || actual=$?
  if [ "$actual" -ne "$code" ]; then
    fail "$description: exit $actual, expected $code: $(cat "$work/out")"
  elif ! grep -Eq -- "$pattern" "$work/out"; then
    fail "$description: output lacks /$pattern/: $(cat "$work/out")"
  else
    pass "$description (exit $code)"
  fi
}

good_sha="$(sha256sum <"$SECURE_POSTGRES_PP" | cut -d' ' -f1)"
expect 0 "installed module secure_postgres" "first load installs the module" -- \
  loader load --module "$SECURE_POSTGRES_PP" --store-root "$store"
[ "$(installed_module_sha "$store" "$work/x")" = "$good_sha" ] && pass "the store holds the shipped bytes" ||
  fail "the store does not hold the shipped bytes"
stamp="$(stat -c %Y.%s "$store/var/lib/selinux/default/active/policy.kern")"
expect 0 "already installed and enabled; store unchanged" "an unchanged module is not reinstalled" -- \
  loader load --module "$SECURE_POSTGRES_PP" --store-root "$store"
[ "$(stat -c %Y.%s "$store/var/lib/selinux/default/active/policy.kern")" = "$stamp" ] &&
  pass "the policy was not rebuilt" || fail "the policy was rebuilt for an unchanged module"

# Upgrade: a new version with one more harmless rule.
mkdir -p "$work/v2"
build_variant "$work/v2" "allow secpg_postgres_t self:process getcap;" 1.0.1
v2_sha="$(sha256sum <"$work/v2/secure_postgres.pp" | cut -d' ' -f1)"
expect 0 "upgraded to module secure_postgres 1.0.1" "a changed module is upgraded" -- \
  loader load --module "$work/v2/secure_postgres.pp" --store-root "$store"
[ "$(installed_module_sha "$store" "$work/x")" = "$v2_sha" ] && pass "the store holds version 1.0.1" ||
  fail "the store does not hold the upgrade"

# Bad input: each must fail and leave 1.0.1 installed.
head -c 20000 "$work/v2/secure_postgres.pp" >"$work/truncated.pp"
mkdir -p "$work/corrupt" && head -c 200 /dev/urandom >"$work/corrupt/secure_postgres.pp"
mkdir -p "$work/named" && cp "$SECURE_POSTGRES_PP" "$work/named/other_module.pp"
mkdir -p "$work/broken"
build_variant "$work/broken" "allow secpg_postgres_t self:capability sys_admin;" 1.0.2
cp "$work/truncated.pp" "$work/corrupt/t" && mkdir -p "$work/trunc" && mv "$work/corrupt/t" "$work/trunc/secure_postgres.pp"

expect 2 "not a usable SELinux policy module package: wrong magic" "a corrupt package is refused" -- \
  loader load --module "$work/corrupt/secure_postgres.pp" --store-root "$store"
expect 3 "refused module secure_postgres|policy store refused" "a truncated package is refused by the store" -- \
  loader load --module "$work/trunc/secure_postgres.pp" --store-root "$store"
expect 2 "holds module 'secure_postgres', its file name says 'other_module'" "a mismatched package is refused" -- \
  loader load --module "$work/named/other_module.pp" --store-root "$store"
expect 2 "cannot open" "a missing package is refused" -- \
  loader load --module "$work/nothing/secure_postgres.pp" --store-root "$store"
expect 3 "neverallow" "a module breaking an invariant is refused by the store" -- \
  loader load --module "$work/broken/secure_postgres.pp" --store-root "$store"
expect 3 "no SELinux policy store" "a missing policy store is an error" -- \
  loader load --module "$SECURE_POSTGRES_PP" --store-root "$work/empty-root"
expect 2 "unknown command" "an unknown command is refused" -- loader unload
[ "$(installed_module_sha "$store" "$work/x")" = "$v2_sha" ] &&
  pass "after every refusal the store still holds 1.0.1" ||
  fail "a refused load changed the installed module"

# SELinux off (this host, unless it boots with SELinux): notice and exit 0, or exit 4.
if command -v selinuxenabled >/dev/null && selinuxenabled; then
  echo "note: SELinux is enabled on this host; the SELinux-off behaviour is proven in the VM test"
else
  expect 0 "SELinux is not enabled on this host: policy module .*secure_postgres.pp not loaded" \
    "SELinux off: one notice, exit 0" -- loader load --module "$SECURE_POSTGRES_PP"
  [ "$(wc -l <"$work/out")" -eq 1 ] && pass "the notice is one line" || fail "more than one line: $(cat "$work/out")"
  expect 4 "SELinux is not enabled on this host, and it is required" "SELinux off with --required: exit 4" -- \
    loader load --module "$SECURE_POSTGRES_PP" --required
  expect 0 "not loaded, nothing changed" "SELinux off: the package is not needed" -- \
    loader load --module "$work/nothing/secure_postgres.pp"
fi
finish
