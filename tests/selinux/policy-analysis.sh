#!/usr/bin/env bash
# (b) Policy analysis without a VM: the module is linked into a sandbox copy of Debian's
# default policy store with neverallow checking on (expand-check=1), by the loader itself,
# and setools (policy-assert.py) states what each domain may and may not do. Variants that
# break an invariant must fail to link.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_selinux_tools
/usr/bin/python3 -c 'import setools' 2>/dev/null || missing_prerequisite "python3-setools"

work="$(mktemp -d /tmp/pgguard-selinux-analysis.XXXXXX)"
trap 'rm -rf "$work"' EXIT
store="$work/store"
make_sandbox_store "$store"
"$PGGUARD_SELINUX" load --module "$SECURE_POSTGRES_PP" --store-root "$store" >"$work/load.log" 2>&1 || {
  cat "$work/load.log" >&2
  echo "FAIL: the module does not link into Debian's default policy" >&2
  exit 1
}
policy="$store/etc/selinux/default/policy/policy.33"
file_contexts="$store/etc/selinux/default/contexts/files/file_contexts"

label_of() {
  selabel_lookup -b file -k "$1" -f "$file_contexts" | sed 's/.*context: //I' | cut -d: -f3
}

labelled() {  # PATH TYPE
  local actual
  actual="$(label_of "$1")"
  if [ "$actual" = "$2" ]; then
    pass "$1 is $2"
  else
    fail "$1 is $actual, expected $2"
  fi
}

# Files, ports, capabilities, transitions per domain: one setools process (policy-assert.py).
if /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/policy-assert.py" "$policy"; then
  pass "every domain assertion holds"
else
  fail "domain assertions failed (see FAIL lines above)"
fi

echo "== file contexts"
labelled /var/vcap/packages/postgres-15/bin/postgres secpg_postgres_exec_t
labelled /var/vcap/data/packages/postgres-15/0123abcd/bin/initdb secpg_postgres_exec_t
labelled /var/vcap/data/packages/postgres-15/0123abcd/lib/plpgsql.so secpg_postgres_pkg_t
labelled /var/vcap/data/jobs/pg-master/4567/config/postgresql.conf secpg_postgres_conf_t
labelled /var/vcap/store/pg-master/data/PG_VERSION secpg_postgres_data_t
labelled /var/vcap/store/pg-standby/data/PG_VERSION secpg_postgres_data_t
labelled /var/vcap/data/sys/log/pg-master/postgresql.log secpg_postgres_log_t
labelled /var/vcap/sys/run/pg-master/.s.PGSQL.5432 secpg_postgres_run_t
labelled /var/vcap/packages/pgpool/bin/pgpool secpg_pgpool_exec_t
labelled /var/vcap/store/pgpool/pgpool_status secpg_pgpool_data_t
labelled /var/vcap/data/packages/pgguard/89ab/bin/pgguard-isolate secpg_isolate_exec_t
labelled /var/vcap/data/packages/pgguard/89ab/bin/pgguard-vip secpg_vip_exec_t
labelled /var/vcap/data/jobs/pgpool/4567/config/vip.conf secpg_vip_conf_t
labelled /var/vcap/jobs/pgpool/config/vip.conf secpg_vip_conf_t
labelled /var/vcap/data/jobs/pgpool/4567/config/pgpool.conf secpg_pgpool_conf_t
labelled /var/vcap/data/sys/run/pgpool-vip/socket/vip.sock secpg_vip_run_t
labelled /var/vcap/sys/run/pgpool/pgpool.pid secpg_pgpool_run_t
labelled /var/vcap/data/packages/pgguard/89ab/bin/pgguard-launch var_t
labelled /var/vcap/store/other-job/secret var_t

echo "== invariants are enforced at link time"
# One variant per kind of invariant (capability, package write, other job data, foreign port,
# W^X);
# each link of Debian's whole policy takes a while, so not one per neverallow.
installed_sha="$(installed_module_sha "$store" "$work/extract")"
variant=0
for rule in \
  "allow secpg_postgres_t self:capability dac_override;" \
  "allow secpg_postgres_t secpg_postgres_pkg_t:file write;" \
  "allow secpg_postgres_t secpg_pgpool_data_t:file read;" \
  "allow secpg_pgpool_t secpg_pgpool_tmpfs_t:file execute;" \
  "gen_require(\` type http_port_t; ') allow secpg_postgres_t http_port_t:tcp_socket name_bind;"; do
  variant=$((variant + 1))
  if ! build_variant "$work/broken$variant" "$rule"; then
    fail "variant '$rule' does not even compile (the check below would prove nothing)"
    continue
  fi
  if semodule -p "$store" -s default -i "$work/broken$variant/secure_postgres.pp" >"$work/broken$variant/link.log" 2>&1; then
    fail "a module with '$rule' linked: the invariant is not enforced"
  elif grep -q "neverallow check failed" "$work/broken$variant/link.log"; then
    pass "'$rule' is refused by a neverallow"
  else
    fail "'$rule' failed to link, but not on a neverallow: $(head -3 "$work/broken$variant/link.log")"
  fi
done
if [ "$(installed_module_sha "$store" "$work/extract")" = "$installed_sha" ]; then
  pass "the refused variants left the installed module in place"
else
  fail "a refused variant replaced the installed module"
fi
finish
