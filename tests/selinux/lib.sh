# Sourced by the selinux tests: sandbox policy stores, module variants, reporting.
# shellcheck source=../lib/require.sh
. "$PGGUARD_SOURCE_DIR/tests/lib/require.sh"

failures=0

# The first recorded result marks the steps as begun: a prerequisite found missing after it
# fails the test instead of turning what was recorded into a skip (tests/lib/require.sh).
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
  require_steps_begun "$*"
}

pass() {
  echo "ok: $*"
  require_steps_begun "$*"
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
}

require_selinux_tools() {
  require_root
  require_command semodule selabel_lookup make m4 checkmodule
  [ -f /usr/share/selinux/devel/Makefile ] || missing_prerequisite "selinux-policy-dev"
  [ -d /var/lib/selinux/default/active ] || missing_prerequisite "selinux-policy-default (policy store)"
  [ -n "${SECURE_POSTGRES_PP:-}" ] && [ -s "$SECURE_POSTGRES_PP" ] ||
    missing_prerequisite "the built module (SECURE_POSTGRES_PP=${SECURE_POSTGRES_PP:-unset})"
  [ -n "${PGGUARD_SELINUX:-}" ] && [ -x "$PGGUARD_SELINUX" ] ||
    missing_prerequisite "pgguard-selinux (PGGUARD_SELINUX=${PGGUARD_SELINUX:-unset})"
}

# A private copy of Debian's default policy store under $1, linked with neverallow checking
# (expand-check=1), so semodule -p / pgguard-selinux --store-root never touch the host's.
make_sandbox_store() {
  local root="$1"
  mkdir -p "$root/etc/selinux" "$root/var/lib/selinux"
  cp -a /var/lib/selinux/default "$root/var/lib/selinux/"
  cp -a /etc/selinux/default "$root/etc/selinux/"
  cat >"$root/etc/selinux/semanage.conf" <<'CONF'
module-store = direct
expand-check = 1
usepasswd = false
CONF
}

# Builds a variant of the module: the real sources plus extra lines appended to the .te.
build_variant() {
  local out="$1" extra="$2" version="${3:-}"
  local src="$out/src"
  mkdir -p "$src"
  cp "$PGGUARD_SOURCE_DIR"/src/selinux/policy/secure_postgres.{te,fc,if} \
    "$PGGUARD_SOURCE_DIR"/src/selinux/policy/build-module.sh "$src"/
  if [ -n "$version" ]; then
    sed -i "s/^policy_module(secure_postgres, [0-9.]*)/policy_module(secure_postgres, $version)/" "$src/secure_postgres.te"
  fi
  printf '\n%s\n' "$extra" >>"$src/secure_postgres.te"
  bash "$src/build-module.sh" "$out" >"$out/build.log" 2>&1 || {
    cat "$out/build.log" >&2
    return 1
  }
}

# sha256 of the bytes the sandbox store under $1 holds for module secure_postgres.
installed_module_sha() {
  local root="$1" scratch="$2"
  rm -rf "$scratch" && mkdir -p "$scratch"
  (cd "$scratch" && semodule -p "$root" -s default -E secure_postgres >/dev/null 2>&1) || {
    echo "no-module-installed"
    return 0
  }
  sha256sum <"$scratch/secure_postgres.pp" | cut -d' ' -f1
}
