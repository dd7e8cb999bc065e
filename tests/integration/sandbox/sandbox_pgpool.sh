#!/bin/bash
# pgpool-II 4.3 under profiles/pgpool.conf.in (watchdog off, precompiled BPF) in front of a
# PostgreSQL 15 backend that runs under its own profile: pgpool must start, serve queries over
# TCP and its unix socket, answer SHOW pool_nodes and a pgbench select-only run, with no
# denial in its log and no syscall logged by a staging run; its main process and a child must
# be unprivileged, capability-free, no_new_privs and seccomp-filtered.
# Usage: sandbox_pgpool.sh PGGUARD_LAUNCH
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_own_ipc_namespace "$@"
sb_setup "$1"
sb_require_postgres
sb_require_pgpool
sb_require_kernel_log

PG_PORT=55442
POOL_PORT=55449
PCP_PORT=55448
DATA=$SB_WORK/data
UID_PG=$(id -u postgres)
GID_PG=$(id -g postgres)
POOL_CONF=$SB_WORK/pgpool-conf POOL_RUN=$SB_WORK/pgpool-run POOL_LOG=$SB_WORK/pgpool-log
sb_write_pgpool_conf "$POOL_CONF" "$POOL_RUN" "$POOL_LOG" "$POOL_PORT" "$PCP_PORT" "$PG_PORT"
sb_render "$SB_PROFILES/pgpool.conf.in" "$SB_WORK/pgpool.conf" USER=postgres GROUP=postgres \
  RUN_DIR="$POOL_RUN" SOCKET_DIR="$SB_SOCK" LOG_DIR="$POOL_LOG" CONF_DIR="$POOL_CONF" \
  PORT="$POOL_PORT" PCP_PORT="$PCP_PORT" CONNECT_PORTS="$PG_PORT" || exit 1
sb_check "check pgpool profile" "$SB_LAUNCH" check --profile "$SB_WORK/pgpool.conf"

sb_start_backend "$DATA" "$PG_PORT" || sb_finish
sb_as_postgres "$SB_PGBIN/pgbench" -h "$SB_SOCK" -p "$PG_PORT" -U postgres -i -s 1 -q postgres \
  >/dev/null 2>&1 || sb_fail "pgbench -i on the backend"

start_pgpool() {  # PROFILE [--seccomp-bpf FILE]: start pgpool, wait until it answers
  local profile=$1
  shift
  # shellcheck disable=SC2046
  "$SB_LAUNCH" run --profile "$profile" "$@" --pidfile "$POOL_RUN/launched.pid" -- \
    "$SB_PGPOOL" $(sb_pgpool_args "$POOL_CONF") >"$SB_WORK/pgpool.out" 2>&1 &
  POOL_LAUNCHED=$!
  local tries=150
  while ((tries-- > 0)); do
    sb_as_postgres "$SB_PGBIN/pg_isready" -q -h 127.0.0.1 -p "$POOL_PORT" && return 0
    kill -0 "$POOL_LAUNCHED" 2>/dev/null || break
    sleep 0.2
  done
  cat "$SB_WORK/pgpool.out" >&2
  return 1
}
sb_on_exit "sb_stop_pgpool '$POOL_RUN'"

POOL_PSQL=(sb_as_postgres "$SB_PGBIN/psql" -X -At -v ON_ERROR_STOP=1 -U postgres -d postgres)
exercise_pgpool() {
  [ "$("${POOL_PSQL[@]}" -h 127.0.0.1 -p "$POOL_PORT" -c "SELECT count(*) FROM pgbench_branches")" = 1 ] ||
    return 1
  [ "$("${POOL_PSQL[@]}" -h "$SB_SOCK" -p "$POOL_PORT" -c "SELECT 40 + 2")" = 42 ] || return 1
  "${POOL_PSQL[@]}" -h 127.0.0.1 -p "$POOL_PORT" -c "SHOW pool_nodes" | grep -q "|$PG_PORT|up|" ||
    return 1
  sb_as_postgres "$SB_PGBIN/pgbench" -h 127.0.0.1 -p "$POOL_PORT" -U postgres -S -c 2 -T 3 postgres \
    >"$SB_WORK/pool-pgbench.out" 2>&1 &&
    grep -q 'number of failed transactions: 0' "$SB_WORK/pool-pgbench.out"
}

sb_check "compile pgpool's seccomp filter" \
  "$SB_LAUNCH" compile --profile "$SB_WORK/pgpool.conf" --output "$SB_WORK/pgpool.bpf"
if start_pgpool "$SB_WORK/pgpool.conf" --seccomp-bpf "$SB_WORK/pgpool.bpf"; then
  sb_pass "pgpool started under its profile (watchdog off)"
  sb_check "pgpool serves queries (TCP, unix socket, SHOW pool_nodes, pgbench -S)" exercise_pgpool
  MAIN=$(tr -d '\0' <"$POOL_RUN/pgpool.pid" | head -1)
  [ "$MAIN" = "$POOL_LAUNCHED" ] && sb_pass "launcher exec'd pgpool in place (pid $MAIN)" ||
    sb_fail "pgpool main pid $MAIN, launched $POOL_LAUNCHED"
  CHILD=$(pgrep -P "$MAIN" | head -1)
  sb_check_sandboxed "pgpool main" "$MAIN" "$UID_PG" "$GID_PG"
  if [ -n "$CHILD" ]; then
    sb_check_sandboxed "pgpool child" "$CHILD" "$UID_PG" "$GID_PG"
  else
    sb_fail "pgpool has no child process"
  fi
  sb_check_limit "pgpool main" "$MAIN" "Max open files" "4096 4096"
  sb_check_limit "pgpool main" "$MAIN" "Max core file size" "0 0"
  sb_stop_pgpool "$POOL_RUN"
  wait "$POOL_LAUNCHED"
  DENIALS=$(sb_denial_lines "$SB_WORK/pgpool.out")
  [ -z "$DENIALS" ] && sb_pass "no permission errors in pgpool's log" || {
    printf '%s\n' "$DENIALS" >&2
    sb_fail "permission errors in pgpool's log"
  }
else
  sb_fail "pgpool did not start under its profile"
fi

# Staging run with default_action = log: the kernel logs what the errno run refused silently.
sed 's/^default_action = errno$/default_action = log\nstaging = true/' "$SB_WORK/pgpool.conf" >"$SB_WORK/staging.conf"
MARK=$(sb_kmsg_mark)
if start_pgpool "$SB_WORK/staging.conf"; then
  exercise_pgpool || sb_fail "staging: pgpool queries"
  sleep 2  # a few health-check and sr-check rounds
  sb_stop_pgpool "$POOL_RUN"
  wait "$POOL_LAUNCHED"
  LOGGED=$(sb_seccomp_logged "$MARK" "$UID_PG")
  [ -z "$LOGGED" ] && sb_pass "staging run: no syscall outside pgpool's allowlist" || {
    printf 'count syscall comm:\n%s\n' "$LOGGED" >&2
    sb_fail "staging run: pgpool used syscalls outside its allowlist"
  }
else
  sb_fail "staging: pgpool did not start"
fi
sb_finish
