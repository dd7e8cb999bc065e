# shellcheck shell=bash disable=SC2154 # local_bosh: set by the caller
# Instance A of the local deployment under faults: who is primary, who holds the VIP, a client
# writing through the VIP and the check that every acknowledged write survived. Sourced by
# lib/ha_faults.sh (the acceptance scenarios) and bench/ha/run.sh. Needs from the caller:
# local_bosh, fail, log, on (tests/acceptance/local_deployment.sh defines them).

instance_a_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ha_state="$SECURE_POSTGRES_LOCAL_STATE/ha"
mkdir -p "$ha_state"
pg_bin=/usr/lib/postgresql/15/bin

# The job a PostgreSQL VM of A runs, from its name.
pg_job() { case "$1" in *pg-master*) echo pg-master ;; *) echo pg-standby ;; esac; }

# sql VM SQL: as the superuser over the VM's own socket.
sql() { on "$1" runuser -u postgres -- "$pg_bin/psql" -X -At -h "/var/vcap/sys/run/$(pg_job "$1")" -d "${3:-postgres}" -c "$2" 2>&1; }

# The PostgreSQL VM of A serving as the primary, or nothing while there is none or two.
primary_of_a() {
  local vm found=""
  for vm in a-pg-master-0 a-pg-standby-0; do
    if [ "$(sql "$vm" "SELECT pg_is_in_recovery()")" = f ]; then
      [ -z "$found" ] || return 0
      found="$vm"
    fi
  done
  echo "$found"
}

# The pgpool VMs of A that hold its VIP (198.18.0.15).
vip_holders_of_a() {
  local vm
  for vm in a-pgpool-0 a-pgpool-1 a-pgpool-2; do
    if on "$vm" ip -4 -o addr show dev eth0 2>/dev/null | grep -q ' 198\.18\.0\.15/'; then
      echo "$vm"
    fi
  done
}

# eventually SECONDS DESCRIPTION COMMAND...: polls until COMMAND succeeds, or fails the test
# with what the last try printed.
eventually() {
  local patience="$1" what="$2" deadline output
  shift 2
  deadline=$((SECONDS + patience))
  until output="$("$@" 2>&1)"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "not within $patience s: $what (last try: $output)"
    sleep 1
  done
}

# Each scenario's writes are numbered from a million times its own number.
writer_scenario=0
writer_start() {
  local password
  writer_scenario=$((writer_scenario + 1))
  password="$(ruby -ryaml -e 'puts YAML.safe_load_file(ARGV[0]).fetch("pg_app_password").fetch("value")' \
    "$SECURE_POSTGRES_LOCAL_STATE/credhub/secure-postgres-a.yml")"
  rm -f "$ha_state/acked" "$ha_state/acked.failed" "$ha_state/stop"
  "$local_bosh" exec app-a -- env PGPASSWORD="$password" "$instance_a_lib/writer.sh" \
    "host=198.18.0.15 port=9999 dbname=app user=app sslmode=verify-full sslrootcert=/var/vcap/ca.crt connect_timeout=3" \
    "$ha_state/acked" "$ha_state/stop" "$((writer_scenario * 1000000))" >"$ha_state/writer.log" 2>&1 &
  writer_pid=$!
  eventually 30 "the writer's first acknowledged write" test -s "$ha_state/acked"
}

# acked_count: the writes acknowledged so far.
acked_count() { [ -e "$ha_state/acked" ] && wc -l <"$ha_state/acked" || echo 0; }

refused_count() { [ -e "$ha_state/acked.failed" ] && wc -l <"$ha_state/acked.failed" || echo 0; }
more_acked_than() { [ "$(acked_count)" -gt "$1" ]; }

# writes_resume: more acknowledged writes than now (arguments are expanded once: the checks
# that must be evaluated on each try are functions).
writes_resume() {
  local before
  before="$(acked_count)"
  eventually 90 "writes through the VIP resume (acknowledged so far: $before)" more_acked_than "$((before + 5))"
}

primary_is() { [ "$(primary_of_a)" = "$1" ]; }
serves_as_primary() { [ "$(sql "$1" "SELECT pg_is_in_recovery()")" = f ]; }
is_standby() { [ "$(sql "$1" "SELECT pg_is_in_recovery()")" = t ]; }

has_a_single_primary() { [ -n "$(primary_of_a)" ]; }

# writer_stop: stops the writer, then lists in $ha_state/missing every acknowledged write that
# the primary of the moment (writer_primary) lacks.
writer_stop() {
  touch "$ha_state/stop"
  wait "$writer_pid" || true
  # A moment after a promotion the fence or a restart may still be at work on the other node.
  eventually 30 "A has a single primary after the scenario" has_a_single_primary
  writer_primary="$(primary_of_a)"
  [ -n "$writer_primary" ] || fail "A has no single primary after the scenario"
  sql "$writer_primary" "SELECT n FROM acked" app | sort >"$ha_state/present"
  cut -d' ' -f1 "$ha_state/acked" | sort | comm -23 - "$ha_state/present" >"$ha_state/missing"
}

# writer_stop_and_check: stops the writer; every acknowledged write is on the primary.
writer_stop_and_check() {
  writer_stop
  [ ! -s "$ha_state/missing" ] ||
    fail "$(wc -l <"$ha_state/missing") acknowledged writes lost on $writer_primary: $(tr '\n' ' ' <"$ha_state/missing" | cut -c1-200)"
  log "  $(acked_count) acknowledged writes, all on the primary $writer_primary ($(refused_count) refused meanwhile)"
}

# The standby of A streams synchronously again (its slot name is its application_name).
synchronous_pair() {
  local primary answer
  primary="$(primary_of_a)"
  [ -n "$primary" ] || { echo "no single primary"; return 1; }
  answer="$(sql "$primary" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum')")"
  [ "$answer" = 1 ] || { echo "$primary: synchronous standbys streaming: $answer"; return 1; }
}

# Every pgpool of A sees both backends up (pcp-free: SHOW pool_nodes through the VIP).
both_backends_up() {
  [ "$("$local_bosh" psql a -Atc "SHOW pool_nodes" 2>/dev/null | awk -F'|' '$4 == "up"' | wc -l)" = 2 ]
}

# vip_moved_from VM: exactly one pgpool holds A's VIP, and not VM.
vip_moved_from() {
  local holders
  holders="$(vip_holders_of_a)"
  [ "$(wc -w <<<"$holders")" = 1 ] && [ "$holders" != "$1" ]
}

# pid_file VM: the pid file of the VM's postmaster, seen from the host.
pid_file() { echo "$SECURE_POSTGRES_LOCAL_STATE/vms/$1/vcap/sys/run/$(pg_job "$1")/postgres.pid"; }

# postmaster_replaced VM PID: the VM's pid file names another live postmaster.
postmaster_replaced() {
  local pid
  pid="$(cat "$(pid_file "$1")" 2>/dev/null)" && [ -n "$pid" ] && [ "$pid" != "$2" ] && kill -0 "$pid"
}

# peer_of VM: the other PostgreSQL VM of A.
peer_of() { [ "$1" = a-pg-master-0 ] && echo a-pg-standby-0 || echo a-pg-master-0; }

# What an operator would look at first: printed when a scenario fails.
on_failure() {
  echo "--- diagnostics of instance A"
  # A VM a scenario left frozen would hang every look at it.
  "$local_bosh" thaw a-pg-master-0 >/dev/null 2>&1 || true
  "$local_bosh" thaw a-pg-standby-0 >/dev/null 2>&1 || true
  "$local_bosh" status 2>&1 | grep -E '^(a-|secure-postgres-a)'
  "$local_bosh" psql a -Atc "SHOW pool_nodes" 2>&1
  local log
  for log in "$SECURE_POSTGRES_LOCAL_STATE"/vms/a-pgpool-*/vcap/sys/log/pgpool/pgguard-pgpool.log; do
    echo "--- $log (failover, failback, primary search)"
    grep -E 'pgguard-failover|failback|find_primary|degenerat|quarantine' "$log" | tail -n 15 | cut -c1-240
  done
  for log in "$SECURE_POSTGRES_LOCAL_STATE"/vms/a-pg-*/vcap/sys/log/pg-*/{pgguard-postgres,fence}.log; do
    echo "--- $log"
    tail -n 8 "$log" | cut -c1-240
  done
}

# pgpool_starts LOG: how often pgpool has started (its own line in the job's log).
pgpool_starts() { grep -c 'pgpool-II successfully started' "$1" || true; }
pgpool_started_since() { [ "$(pgpool_starts "$1")" -gt "$2" ]; }

# large_segments VM: System V shared memory segments over 1 MB in the VM's IPC namespace
# (pgpool's is 130 MB; PostgreSQL keeps its own small).
large_segments() { on "$1" cat /proc/sysvipc/shm | awk 'NR > 1 && $4 > 1048576' | wc -l; }

failover_lines() { cat "$SECURE_POSTGRES_LOCAL_STATE"/vms/a-pgpool-*/vcap/sys/log/pgpool/pgguard-pgpool.log | grep -c 'pgguard-failover: the primary' || true; }
