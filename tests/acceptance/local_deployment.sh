#!/usr/bin/env bash
# The local deployment (local/bin/secure-postgres-local) from scratch, as the README's main
# command brings it up: two service instances of five VMs each. Proves: an ops-file with a bad
# property fails before any VM exists, with the template's message; from instance A's
# application network, psql through A's VIP with TLS (verify-full) + scram writes and reads, and
# the write is on A's standby; from A's VMs no port of B's answers, and the other way round, and
# an application reaches only its own instance; every postgres and pgpool process runs as its
# profile says (non-root, no capability, seccomp filter, no_new_privs); the
# security-smoke-tests errand passes on every VM; a rebooted pgpool VM (processes and rules
# gone, no pre-start) gets its isolation table and its processes back through monit alone;
# high availability under faults with a client writing through the VIP (lib/ha_faults.sh):
# a crashed postmaster restarted sandboxed without failover, the master VM lost (promotion,
# then the old master rewound as a standby, synchronous again), the primary's VM frozen and
# thawed (the fence stops it, it rejoins through pg_rewind), pgpool's main process killed
# (monit starts it again, its orphans and shared memory cleared), the VIP holder lost, a pgpool
# cut off from the other two (no split brain), no acknowledged write lost; a second up changes
# nothing; a pre-start that fails (a pgpool.bin_dir without pgpool) fails the deploy with the
# job's own message and touches no later VM, and the next good up updates only the VMs that
# failed; delete leaves no namespace, monit or PostgreSQL process behind.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/require.sh"
require_nftables
require_command ruby nsenter monit
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing_prerequisite "PostgreSQL 15 server"
[ -x /usr/sbin/pgpool ] || missing_prerequisite "pgpool-II (/usr/sbin/pgpool)"
[ -x "${PGGUARD_BIN_DIR:-/nonexistent}/launch/pgguard-launch" ] || { echo "FAIL: pgguard not built in PGGUARD_BIN_DIR" >&2; exit 1; }

export SECURE_POSTGRES_LOCAL_PREFIX="acc$$"
export SECURE_POSTGRES_LOCAL_STATE
SECURE_POSTGRES_LOCAL_STATE="$(mktemp -d "/tmp/acc$$.XXXXXX")"
local_bosh="$PGGUARD_SOURCE_DIR/local/bin/secure-postgres-local"
trap '"$local_bosh" delete >/dev/null 2>&1 || true; rm -rf "$SECURE_POSTGRES_LOCAL_STATE"' EXIT

# A part that knows more about its failure defines on_failure (lib/ha_faults.sh).
fail() {
  echo "FAIL: $*" >&2
  if declare -F on_failure >/dev/null; then on_failure >&2 || true; fi
  exit 1
}
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
on() { "$local_bosh" exec "$1" -- "${@:2}"; }
# reaches VM ADDRESS PORT: a TCP connection from VM within 2 s.
reaches() { on "$1" timeout 2 bash -c "echo >/dev/tcp/$2/$3" >/dev/null 2>&1; }

log "a bad property fails before any VM changes, with the template's own message"
cat >"$SECURE_POSTGRES_LOCAL_STATE.bad-ops.yml" <<'OPS'
- type: replace
  path: /instance_groups/name=pgpool/jobs/name=pgpool/properties/sandbox?/seccomp_default_action
  value: allow
OPS
output="$("$local_bosh" up -o "$SECURE_POSTGRES_LOCAL_STATE.bad-ops.yml" 2>&1)" && fail "up accepted a bad property: $output"
rm -f "$SECURE_POSTGRES_LOCAL_STATE.bad-ops.yml"
grep -q "pgpool: sandbox.seccomp_default_action 'allow' must be errno, kill_process or log" <<<"$output" ||
  fail "the bad property was refused for another reason: $output"
[ -z "$(ip netns list | awk -v p="$SECURE_POSTGRES_LOCAL_PREFIX-" 'index($1, p) == 1')" ] ||
  fail "a refused manifest created namespaces"

log "up: two instances from scratch"
"$local_bosh" up || fail "up failed"

log "psql through A's VIP from A's application network: TLS + scram, a write seen on A's standby"
output="$("$local_bosh" psql a -Atc "CREATE TABLE t (v text); INSERT INTO t VALUES ('from-a'); SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>&1)" ||
  fail "psql through A's VIP: $output"
[ "$(tail -n1 <<<"$output")" = t ] || fail "the session through A's VIP is not TLS: $output"
for _ in $(seq 50); do
  output="$(on a-pg-standby-0 runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -h /var/vcap/sys/run/pg-standby -d app -Atc "SELECT v FROM t" 2>&1)" && break
  sleep 0.2
done
[ "$output" = from-a ] || fail "A's standby does not have the write: $output"
output="$("$local_bosh" psql b -Atc "SELECT count(*) FROM pg_tables WHERE tablename = 't'" 2>&1)" || fail "psql through B's VIP: $output"
[ "$output" = 0 ] || fail "B sees A's table: $output"

log "isolation between the instances, both ways; each application reaches only its own instance"
reaches a-pgpool-0 198.18.0.8 5432 || fail "A's pgpool cannot reach A's master"
for port in 5432 9999 9898 9000 22; do
  reaches a-pgpool-0 198.18.0.24 "$port" && fail "A's pgpool reaches B's master on $port"
  reaches b-pgpool-0 198.18.0.8 "$port" && fail "B's pgpool reaches A's master on $port"
  reaches a-pg-master-0 198.18.0.26 "$port" && fail "A's master reaches B's pgpool on $port"
  reaches b-pg-standby-0 198.18.0.10 "$port" && fail "B's standby reaches A's pgpool on $port"
done
reaches app-a 198.18.0.15 9999 || fail "A's application cannot reach A's VIP"
reaches app-a 198.18.0.31 9999 && fail "A's application reaches B's VIP"
reaches app-b 198.18.0.15 9999 && fail "B's application reaches A's VIP"
reaches app-a 198.18.0.8 5432 && fail "an application reaches a master directly"

log "every postgres and pgpool process runs as its profile says"
checked=0
for ns in $(ip netns list | awk -v p="$SECURE_POSTGRES_LOCAL_PREFIX-" 'index($1, p) == 1 {print $1}'); do
  for pid in $(ip netns pids "$ns"); do
    comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || continue
    case "$comm" in postgres | pgpool) ;; *) continue ;; esac
    status="/proc/$pid/status"
    uid="$(awk '$1 == "Uid:" {print $2}' "$status" 2>/dev/null)" || continue
    [ -n "$uid" ] || continue
    [ "$uid" != 0 ] || fail "$ns: $comm $pid runs as root"
    [ "$(awk '$1 == "CapEff:" {print $2}' "$status")" = 0000000000000000 ] || fail "$ns: $comm $pid has capabilities"
    [ "$(awk '$1 == "Seccomp:" {print $2}' "$status")" = 2 ] || fail "$ns: $comm $pid has no seccomp filter"
    [ "$(awk '$1 == "NoNewPrivs:" {print $2}' "$status")" = 1 ] || fail "$ns: $comm $pid lacks no_new_privs"
    checked=$((checked + 1))
  done
done
[ "$checked" -ge 20 ] || fail "only $checked postgres and pgpool processes found"

log "the security-smoke-tests errand passes on every VM"
"$local_bosh" run-errand security-smoke-tests >"$SECURE_POSTGRES_LOCAL_STATE/errand.out" 2>&1 ||
  { cat "$SECURE_POSTGRES_LOCAL_STATE/errand.out"; fail "the errand failed"; }
[ "$(grep -c ': passed$' "$SECURE_POSTGRES_LOCAL_STATE/errand.out")" = 10 ] || fail "the errand did not pass on 10 VMs"

log "recreate a pgpool VM: monit alone brings its isolation table and processes back"
"$local_bosh" recreate b-pgpool-1 || fail "recreate failed"
on b-pgpool-1 nft list table inet secure_postgres >/dev/null || fail "no isolation table after the reboot"
reaches a-pgpool-0 198.18.0.27 9999 && fail "A reaches the rebooted VM of B"
reaches app-b 198.18.0.27 9999 || fail "B's application cannot reach the rebooted pgpool"

source "$here/lib/ha_faults.sh"

log "a second up changes nothing"
output="$("$local_bosh" up 2>&1)" || fail "the second up failed: $output"
[ "$(grep -c ': no changes$' <<<"$output")" = 10 ] || fail "the second up changed something:
$output"
output="$("$local_bosh" psql a -Atc "SELECT v FROM t" 2>&1)"
[ "$output" = from-a ] || fail "the data is gone after the second up: $output"

log "a failing step ends the deploy with the job's own output and touches no later VM"
cat >"$SECURE_POSTGRES_LOCAL_STATE.bad-bin.yml" <<'OPS'
- type: replace
  path: /instance_groups/name=pgpool/jobs/name=pgpool/properties/pgpool/bin_dir?
  value: /var/vcap/packages/pgpool2-missing/bin
OPS
pgpool_pid_file="$SECURE_POSTGRES_LOCAL_STATE/vms/a-pgpool-1/vcap/sys/run/pgpool/pgpool.pid"
pgpool_pid="$(cat "$pgpool_pid_file")"
output="$("$local_bosh" up -o "$SECURE_POSTGRES_LOCAL_STATE.bad-bin.yml" 2>&1)" &&
  fail "up deployed a pgpool.bin_dir without pgpool: $output"
rm -f "$SECURE_POSTGRES_LOCAL_STATE.bad-bin.yml"
grep -q '^secure-postgres-local: [ab]-pgpool-0: pgpool pre-start failed (exit 2):$' <<<"$output" ||
  fail "the failed deploy does not name the step that failed: $output"
grep -q 'pgpool.bin_dir: cannot use /var/vcap/packages/pgpool2-missing/bin/pgpool: No such file or directory' <<<"$output" ||
  fail "the failed deploy does not show the job's own message: $output"
[ "$(cat "$pgpool_pid_file")" = "$pgpool_pid" ] && kill -0 "$pgpool_pid" ||
  fail "the failed deploy touched a-pgpool-1, after the VM that failed"
output="$("$local_bosh" up 2>&1)" || fail "up after the failed deploy: $output"
[ "$(grep -c ': no changes$' <<<"$output")" = 8 ] && [ "$(grep -c ': updated in ' <<<"$output")" = 2 ] ||
  fail "up after the failed deploy did not update exactly the two VMs that failed:
$output"
output="$("$local_bosh" psql a -Atc "SELECT v FROM t" 2>&1)"
[ "$output" = from-a ] || fail "A does not answer through its VIP after the failed deploy was mended: $output"

log "delete leaves nothing behind"
pids="$(for ns in $(ip netns list | awk -v p="$SECURE_POSTGRES_LOCAL_PREFIX-" 'index($1, p) == 1 {print $1}'); do ip netns pids "$ns"; done)"
[ -n "$pids" ] || fail "no process of the deployment found before delete"
"$local_bosh" delete
[ -z "$(ip netns list | awk -v p="$SECURE_POSTGRES_LOCAL_PREFIX-" 'index($1, p) == 1')" ] || fail "namespaces are left"
# A killed process may stay a zombie for a moment until its parent reaps it.
alive() { local state; state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" && [ "$state" != Z ]; }
for pid in $pids; do
  for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && fail "process $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) of the deployment is left"
done
[ ! -e "$SECURE_POSTGRES_LOCAL_STATE" ] || fail "the state directory is left"
log "ok"
