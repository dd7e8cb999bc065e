#!/bin/bash
# Real PostgreSQL 15 under the shipped profiles (profiles/initdb.conf.in and
# profiles/postgres-server.conf.in, seccomp default_action = errno, precompiled BPF):
# initdb, start, pgbench -i and a run, the broad SQL workload (parallel query, JIT, temp-file
# sort and hash, COPY file and PROGRAM, tablespace, CREATE DATABASE, archive_command) must all
# succeed with no denial in the server log; then the postmaster and a backend must show the
# promised /proc/PID/status and /proc/PID/limits.
# Usage: sandbox_postgres.sh PGGUARD_LAUNCH
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_own_ipc_namespace "$@"
sb_setup "$1"
sb_require_postgres
sb_require_kernel_log

PORT=55432
DATA=$SB_WORK/data
UID_PG=$(id -u postgres)
GID_PG=$(id -g postgres)
mkdir -p "$SB_WORK/conf" "$SB_WORK/scratch" "$SB_WORK/archive" "$SB_WORK/log-$PORT"
chown postgres:postgres "$SB_WORK/scratch" "$SB_WORK/archive" "$SB_WORK/log-$PORT"

render_profile() {  # TEMPLATE OUTPUT
  sb_render "$SB_PROFILES/$1" "$2" USER=postgres GROUP=postgres DATA_DIR="$DATA" \
    SOCKET_DIR="$SB_SOCK" LOG_DIR="$SB_WORK/log-$PORT" ARCHIVE_DIR="$SB_WORK/archive" \
    SCRATCH_DIR="$SB_WORK/scratch" CONF_DIR="$SB_WORK/conf" PORT="$PORT" CONNECT_PORTS="$PORT"
}
render_profile initdb.conf.in "$SB_WORK/initdb.conf" || exit 1
render_profile postgres-server.conf.in "$SB_WORK/server.conf" || exit 1
for profile in initdb server; do
  sb_check "check $profile profile" "$SB_LAUNCH" check --profile "$SB_WORK/$profile.conf"
done

sb_wrap() {  # sb_wrap initdb CMD...: run CMD under the initdb profile
  shift
  "$SB_LAUNCH" run --profile "$SB_WORK/initdb.conf" -- "$@"
}
if ! sb_initdb "$DATA"; then
  cat "$SB_WORK/initdb-data.log" >&2
  sb_fail "initdb under the initdb profile"
  sb_finish
fi
sb_pass "initdb under the initdb profile"
sb_write_pg_conf "$DATA" "$PORT"

sb_check "compile the server's seccomp filter" \
  "$SB_LAUNCH" compile --profile "$SB_WORK/server.conf" --output "$SB_WORK/server.bpf"
"$SB_LAUNCH" run --profile "$SB_WORK/server.conf" --seccomp-bpf "$SB_WORK/server.bpf" \
  --pidfile "$SB_WORK/postgres.pid" -- "$SB_PGBIN/postgres" -D "$DATA" \
  >"$SB_WORK/server.out" 2>&1 &
LAUNCHED=$!
sb_on_exit "sb_stop_postgres '$DATA'"
if ! sb_wait_ready "$PORT" 60; then
  cat "$SB_WORK/server.out" "$SB_WORK/log-$PORT"/* >&2
  sb_fail "postgres did not start under the server profile"
  sb_finish
fi
POSTMASTER=$(sb_postmaster_pid "$DATA")
[ "$POSTMASTER" = "$LAUNCHED" ] && [ "$(cat "$SB_WORK/postgres.pid")" = "$LAUNCHED" ] &&
  sb_pass "launcher exec'd postgres in place (pid $LAUNCHED = postmaster = pidfile)" ||
  sb_fail "postmaster pid $POSTMASTER, launched $LAUNCHED, pidfile $(cat "$SB_WORK/postgres.pid")"

PGBENCH=(sb_as_postgres "$SB_PGBIN/pgbench" -h "$SB_SOCK" -p "$PORT" -U postgres)
sb_check "pgbench -i" "${PGBENCH[@]}" -i -s 2 -q postgres
if "${PGBENCH[@]}" -c 4 -j 2 -T 5 postgres >"$SB_WORK/pgbench.out" 2>&1 &&
  grep -q 'number of failed transactions: 0' "$SB_WORK/pgbench.out"; then
  sb_pass "pgbench tpcb-like run: $(grep -E '^tps' "$SB_WORK/pgbench.out" | head -1)"
else
  cat "$SB_WORK/pgbench.out" >&2
  sb_fail "pgbench tpcb-like run"
fi
sb_check "SQL workload: parallel query, JIT, temp files, COPY file/PROGRAM, tablespace, CREATE DATABASE" \
  sb_sql_workload "$PORT"
sb_check "archive_command archived WAL" sb_wait_archived 30

# A client backend that stays while it is inspected.
sb_psql "$PORT" -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
SLEEPER=$!
sb_on_exit "kill $SLEEPER"
BACKEND=
for _ in $(seq 50); do
  BACKEND=$(sb_psql "$PORT" -Atc \
    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND query LIKE 'SELECT pg_sleep%'")
  [ -n "$BACKEND" ] && break
  sleep 0.1
done
CHECKPOINTER=$(sb_psql "$PORT" -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
for entry in "postmaster:$POSTMASTER" "client backend:$BACKEND" "checkpointer:$CHECKPOINTER"; do
  what=${entry%%:*}
  pid=${entry#*:}
  if [ -z "$pid" ]; then
    sb_fail "no $what to inspect"
    continue
  fi
  sb_check_sandboxed "$what" "$pid" "$UID_PG" "$GID_PG"
  sb_check_limit "$what" "$pid" "Max open files" "4096 4096"
  sb_check_limit "$what" "$pid" "Max processes" "2048 2048"
  sb_check_limit "$what" "$pid" "Max core file size" "0 0"
  sb_check_limit "$what" "$pid" "Max stack size" "8388608 8388608"
done
kill "$SLEEPER" 2>/dev/null
wait "$SLEEPER" 2>/dev/null

# The co-located support agent (metrics through psql, backup through pg_dump | gzip) under
# profiles/support-agent.conf.in, as nobody, talking to postgres over its TCP port only.
AGENT_DIR=$SB_WORK/agent
install -d -o nobody -g "$(id -gn nobody)" -m 700 "$AGENT_DIR"
sb_render "$SB_PROFILES/support-agent.conf.in" "$SB_WORK/agent.conf" USER=nobody \
  GROUP="$(id -gn nobody)" SCRATCH_DIR="$AGENT_DIR" CONNECT_PORTS="$PORT" NICE=10 || exit 1
# The script lives in the agent's own dir: Landlock lets the agent read nothing else of ours.
cat >"$AGENT_DIR/agent.sh" <<EOF
#!/bin/bash
set -eo pipefail
echo "nice \$(cut -d' ' -f19 /proc/\$\$/stat)" >$AGENT_DIR/status
grep -E '^(Max open files|Max processes|Max cpu time|Max nice priority)' /proc/\$\$/limits >>$AGENT_DIR/status
for i in 1 2; do
  $SB_PGBIN/psql -X -At -h 127.0.0.1 -p $PORT -U postgres -d postgres \
    -c "SELECT sum(xact_commit) FROM pg_stat_database" >>$AGENT_DIR/metrics
  $SB_PGBIN/pg_dump -h 127.0.0.1 -p $PORT -U postgres -d postgres -t pgbench_branches |
    gzip -c >$AGENT_DIR/dump.\$i.sql.gz
done
EOF
chmod 755 "$AGENT_DIR/agent.sh"
if "$SB_LAUNCH" run --profile "$SB_WORK/agent.conf" -- /bin/bash "$AGENT_DIR/agent.sh" \
  >"$SB_WORK/agent.out" 2>&1 && [ "$(wc -l <"$AGENT_DIR/metrics")" -eq 2 ] &&
  gzip -dc "$AGENT_DIR/dump.2.sql.gz" | grep -q 'CREATE TABLE public.pgbench_branches'; then
  sb_pass "support agent: psql metrics and pg_dump | gzip backup under its profile"
else
  cat "$SB_WORK/agent.out" >&2
  sb_fail "support agent under its profile"
fi
grep -q '^nice 10$' "$AGENT_DIR/status" 2>/dev/null && sb_pass "support agent runs at nice 10" ||
  sb_fail "support agent priority: $(cat "$AGENT_DIR/status" 2>/dev/null)"
for limit in "Max open files *256 *256" "Max processes *64 *64" "Max cpu time *600 *660" \
  "Max nice priority *0 *0"; do
  grep -qE "^$limit " "$AGENT_DIR/status" 2>/dev/null && sb_pass "support agent: $limit" ||
    sb_fail "support agent limit '$limit' not in: $(cat "$AGENT_DIR/status" 2>/dev/null)"
done

sb_stop_postgres "$DATA"
wait "$LAUNCHED"
rc=$?
[ "$rc" -eq 0 ] && sb_pass "postgres shut down cleanly (exit 0)" || sb_fail "postgres exit code $rc"

DENIALS=$(sb_denial_lines "$SB_WORK/server.out" "$SB_WORK/log-$PORT"/* "$SB_WORK/initdb-data.log" \
  "$SB_WORK/agent.out")
if [ -z "$DENIALS" ]; then
  sb_pass "no permission errors in the initdb, server and agent logs"
else
  printf '%s\n' "$DENIALS" >&2
  sb_fail "permission errors in the logs (a false denial of a profile)"
fi

# Staging run: the same profile with default_action = log, the same workload; the kernel logs
# every syscall outside the allowlist (audit type 1326). Any record is a syscall that the
# errno run above answered with EPERM and postgres silently survived: a gap in the groups.
sed 's/^default_action = errno$/default_action = log\nstaging = true/' "$SB_WORK/server.conf" >"$SB_WORK/staging.conf"
grep -q '^default_action = log$' "$SB_WORK/staging.conf" || sb_fail "staging profile not made"
MARK=$(sb_kmsg_mark)
"$SB_LAUNCH" run --profile "$SB_WORK/staging.conf" -- "$SB_PGBIN/postgres" -D "$DATA" \
  >"$SB_WORK/staging.out" 2>&1 &
STAGING=$!
if sb_wait_ready "$PORT" 60; then
  "${PGBENCH[@]}" -c 2 -j 2 -T 2 postgres >/dev/null 2>&1 || sb_fail "staging: pgbench"
  sb_sql_workload "$PORT" >/dev/null || sb_fail "staging: SQL workload"
  sb_stop_postgres "$DATA"
  wait "$STAGING"
  LOGGED=$(sb_seccomp_logged "$MARK" "$UID_PG")
  if [ -z "$LOGGED" ]; then
    sb_pass "staging run (default_action = log): no syscall outside the allowlist"
  else
    printf 'count syscall comm:\n%s\n' "$LOGGED" >&2
    sb_fail "staging run: syscalls outside the allowlist were used (add them to the groups)"
  fi
else
  cat "$SB_WORK/staging.out" >&2
  sb_fail "staging: postgres did not start"
fi
sb_finish
