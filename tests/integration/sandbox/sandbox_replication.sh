#!/bin/bash
# Replication under the shipped profiles: pg_basebackup (profiles/pg_basebackup.conf.in)
# clones a sandboxed primary; the clone runs as a streaming standby under the server profile
# (walreceiver); it is promoted; the old primary, diverged, is rejoined with pg_rewind
# (profiles/pg_rewind.conf.in, -R) and streams from the new primary. Everything runs with
# default_action = errno and must work with no denial in the logs; staging runs of
# pg_basebackup and pg_rewind --dry-run with default_action = log must leave no seccomp record.
# Usage: sandbox_replication.sh PGGUARD_LAUNCH
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_own_ipc_namespace "$@"
sb_setup "$1"
sb_require_postgres
sb_require_kernel_log

PORT_A=55452
PORT_B=55453
DATA_A=$SB_WORK/dataA
DATA_B=$SB_WORK/dataB
UID_PG=$(id -u postgres)
mkdir -p "$SB_WORK"/{conf,scratch,archive,log-$PORT_A,log-$PORT_B}
chown postgres:postgres "$SB_WORK"/{scratch,archive,log-$PORT_A,log-$PORT_B}

render_server() {  # DATA PORT OUTPUT
  sb_render "$SB_PROFILES/postgres-server.conf.in" "$3" USER=postgres GROUP=postgres \
    DATA_DIR="$1" SOCKET_DIR="$SB_SOCK" LOG_DIR="$SB_WORK/log-$2" ARCHIVE_DIR="$SB_WORK/archive" \
    SCRATCH_DIR="$SB_WORK/scratch" CONF_DIR="$SB_WORK/conf" PORT="$2" \
    CONNECT_PORTS="$PORT_A,$PORT_B"
}
render_client() {  # TEMPLATE DATA SOURCE_PORT OUTPUT
  sb_render "$SB_PROFILES/$1" "$4" USER=postgres GROUP=postgres DATA_DIR="$2" \
    SOCKET_DIR="$SB_SOCK" CONF_DIR="$SB_WORK/conf" CONNECT_PORTS="$3"
}
render_server "$DATA_A" "$PORT_A" "$SB_WORK/server-a.conf" || exit 1
render_server "$DATA_B" "$PORT_B" "$SB_WORK/server-b.conf" || exit 1
sb_render "$SB_PROFILES/initdb.conf.in" "$SB_WORK/initdb.conf" USER=postgres GROUP=postgres \
  DATA_DIR="$DATA_A" || exit 1
for data in "$DATA_B" "$SB_WORK/staging-backup"; do
  install -d -o postgres -g postgres -m 700 "$data"
done
render_client pg_basebackup.conf.in "$DATA_B" "$PORT_A" "$SB_WORK/basebackup.conf" || exit 1
render_client pg_basebackup.conf.in "$SB_WORK/staging-backup" "$PORT_A" \
  "$SB_WORK/basebackup-staging.conf" || exit 1
sed -i 's/^default_action = errno$/default_action = log\nstaging = true/' "$SB_WORK/basebackup-staging.conf"

sb_wrap() {
  shift
  "$SB_LAUNCH" run --profile "$SB_WORK/initdb.conf" -- "$@"
}
sb_initdb "$DATA_A" || {
  sb_fail "initdb"
  sb_finish
}
sb_write_pg_conf "$DATA_A" "$PORT_A"
echo "host replication postgres 127.0.0.1/32 trust" >>"$DATA_A/pg_hba.conf"

start_server() {  # DATA PORT PROFILE
  "$SB_LAUNCH" run --profile "$3" -- "$SB_PGBIN/postgres" -D "$1" >>"$SB_WORK/server-$2.out" 2>&1 &
  sb_on_exit "sb_stop_postgres '$1'"
  sb_wait_ready "$2" 60
}
start_server "$DATA_A" "$PORT_A" "$SB_WORK/server-a.conf" || {
  sb_fail "primary did not start"
  sb_finish
}
sb_psql "$PORT_A" -c "CREATE TABLE before_backup AS SELECT 1 AS x"

MARK=$(sb_kmsg_mark)
"$SB_LAUNCH" run --profile "$SB_WORK/basebackup-staging.conf" -- "$SB_PGBIN/pg_basebackup" \
  -h 127.0.0.1 -p "$PORT_A" -U postgres -D "$SB_WORK/staging-backup" -X stream -c fast \
  >"$SB_WORK/staging-backup.out" 2>&1 || sb_fail "staging pg_basebackup"
LOGGED=$(sb_seccomp_logged "$MARK" "$UID_PG")
[ -z "$LOGGED" ] && sb_pass "staging pg_basebackup: no syscall outside its allowlist" || {
  printf '%s\n' "$LOGGED" >&2
  sb_fail "staging pg_basebackup used syscalls outside its allowlist"
}

if "$SB_LAUNCH" run --profile "$SB_WORK/basebackup.conf" -- "$SB_PGBIN/pg_basebackup" \
  -h 127.0.0.1 -p "$PORT_A" -U postgres -D "$DATA_B" -R -X stream -c fast \
  >"$SB_WORK/basebackup.out" 2>&1; then
  sb_pass "pg_basebackup -R -X stream under its profile"
else
  cat "$SB_WORK/basebackup.out" >&2
  sb_fail "pg_basebackup under its profile"
  sb_finish
fi
sed -i "s/^port = $PORT_A\$/port = $PORT_B/; s/log-$PORT_A/log-$PORT_B/" "$DATA_B/postgresql.conf"
start_server "$DATA_B" "$PORT_B" "$SB_WORK/server-b.conf" || {
  sb_fail "standby did not start"
  sb_finish
}
sb_psql "$PORT_A" -c "CREATE TABLE after_backup AS SELECT 2 AS y"
streamed() {  # PORT TABLE
  local tries=100
  while ((tries-- > 0)); do
    sb_psql "$1" -Atc "SELECT count(*) FROM $2" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}
sb_check "standby streams from the primary (walreceiver under the server profile)" \
  streamed "$PORT_B" after_backup

sb_psql "$PORT_B" -c "SELECT pg_promote()" >/dev/null
sb_psql "$PORT_B" -c "CHECKPOINT"
sb_psql "$PORT_B" -c "CREATE TABLE on_new_primary AS SELECT 3 AS z"
sb_psql "$PORT_A" -c "CREATE TABLE on_old_primary AS SELECT 4 AS w"
sb_stop_postgres "$DATA_A"

render_client pg_rewind.conf.in "$DATA_A" "$PORT_B" "$SB_WORK/rewind.conf" || exit 1
sed 's/^default_action = errno$/default_action = log\nstaging = true/' "$SB_WORK/rewind.conf" >"$SB_WORK/rewind-staging.conf"
REWIND=("$SB_PGBIN/pg_rewind" -D "$DATA_A" --source-server="host=$SB_SOCK port=$PORT_B user=postgres dbname=postgres")
MARK=$(sb_kmsg_mark)
"$SB_LAUNCH" run --profile "$SB_WORK/rewind-staging.conf" -- "${REWIND[@]}" --dry-run \
  >"$SB_WORK/rewind-staging.out" 2>&1 || sb_fail "staging pg_rewind --dry-run"
LOGGED=$(sb_seccomp_logged "$MARK" "$UID_PG")
[ -z "$LOGGED" ] && sb_pass "staging pg_rewind --dry-run: no syscall outside its allowlist" || {
  printf '%s\n' "$LOGGED" >&2
  sb_fail "staging pg_rewind used syscalls outside its allowlist"
}
if "$SB_LAUNCH" run --profile "$SB_WORK/rewind.conf" -- "${REWIND[@]}" -R \
  >"$SB_WORK/rewind.out" 2>&1 && grep -q 'Done!' "$SB_WORK/rewind.out"; then
  sb_pass "pg_rewind -R of the old primary under its profile"
else
  cat "$SB_WORK/rewind.out" >&2
  sb_fail "pg_rewind under its profile"
fi
# pg_rewind copies the source's postgresql.conf; on a real deployment both nodes render the
# same file, here the two clusters differ in port and log dir: put the old primary's back.
sed -i "s/^port = $PORT_B\$/port = $PORT_A/; s/log-$PORT_B/log-$PORT_A/" "$DATA_A/postgresql.conf"
start_server "$DATA_A" "$PORT_A" "$SB_WORK/server-a.conf" || sb_fail "rewound primary did not start"
sb_psql "$PORT_B" -c "CREATE TABLE after_rewind AS SELECT 5 AS v"
sb_check "the rewound old primary streams from the new primary" streamed "$PORT_A" after_rewind
if sb_psql "$PORT_A" -Atc "SELECT count(*) FROM on_old_primary" >/dev/null 2>&1; then
  sb_fail "the diverged table survived pg_rewind"
fi

sb_stop_postgres "$DATA_A"
sb_stop_postgres "$DATA_B"
DENIALS=$(sb_denial_lines "$SB_WORK"/*.out "$SB_WORK"/log-*/*)
[ -z "$DENIALS" ] && sb_pass "no permission errors in the logs" || {
  printf '%s\n' "$DENIALS" >&2
  sb_fail "permission errors in the logs"
}
sb_finish
