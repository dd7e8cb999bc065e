# shellcheck shell=bash disable=SC2154 # local_bosh, here: set by local_deployment.sh
# High availability under faults, on instance A of the local deployment (sourced by
# local_deployment.sh after its own checks; B stays untouched and must stay cut off). Each
# scenario runs with a client writing through A's VIP the whole time (writer.sh) and ends with
# every acknowledged write present on the primary of that moment; no timing is asserted, only
# bounded waits. Needs: local_bosh, on, fail, log, reaches (local_deployment.sh).

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
  "$local_bosh" exec app-a -- env PGPASSWORD="$password" "$here/lib/writer.sh" \
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

# writer_stop_and_check: stops the writer; every acknowledged write is on the primary.
writer_stop_and_check() {
  touch "$ha_state/stop"
  wait "$writer_pid" || true
  local primary
  primary="$(primary_of_a)"
  [ -n "$primary" ] || fail "A has no single primary after the scenario"
  sql "$primary" "SELECT n FROM acked" app | sort >"$ha_state/present"
  cut -d' ' -f1 "$ha_state/acked" | sort | comm -23 - "$ha_state/present" >"$ha_state/missing"
  [ ! -s "$ha_state/missing" ] ||
    fail "$(wc -l <"$ha_state/missing") acknowledged writes lost on $primary: $(tr '\n' ' ' <"$ha_state/missing" | cut -c1-200)"
  log "  $(acked_count) acknowledged writes, all on the primary $primary ($(refused_count) refused meanwhile)"
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

"$local_bosh" psql a -c "CREATE TABLE acked (n int PRIMARY KEY)" >/dev/null || fail "cannot create the writer's table"

log "HA: kill -9 the primary's postmaster: monit restarts it sandboxed, no failover, nothing lost"
writer_start
failovers="$(failover_lines)"
primary="$(primary_of_a)"
[ -n "$primary" ] || fail "A has no single primary"
postmaster="$(cat "$(pid_file "$primary")")"
kill -9 "$postmaster"
eventually 60 "monit restarts the postmaster of $primary" postmaster_replaced "$primary" "$postmaster"
restarted="$(cat "$(pid_file "$primary")")"
[ "$(awk '$1 == "Uid:" {print $2}' "/proc/$restarted/status")" != 0 ] || fail "the restarted postmaster runs as root"
[ "$(awk '$1 == "Seccomp:" {print $2}' "/proc/$restarted/status")" = 2 ] || fail "the restarted postmaster has no seccomp filter"
[ "$(awk '$1 == "CapEff:" {print $2}' "/proc/$restarted/status")" = 0000000000000000 ] || fail "the restarted postmaster has capabilities"
writes_resume
eventually 60 "the standby streams synchronously from $primary again" synchronous_pair
[ "$(primary_of_a)" = "$primary" ] || fail "the primary moved after a postmaster crash: $(primary_of_a)"
[ "$(failover_lines)" = "$failovers" ] || fail "a crashed postmaster that monit restarted caused a failover"
writer_stop_and_check

log "HA: the primary's VM lost: the standby is promoted, writes resume; the old primary rejoins as a standby through pg_rewind"
writer_start
primary="$(primary_of_a)"
standby="$(peer_of "$primary")"
log="$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/vcap/sys/log/$(pg_job "$primary")/pgguard-postgres.log"
rewinds="$(grep -c 'rewound with pg_rewind' "$log" || true)"
"$local_bosh" fail "$primary" >/dev/null
eventually 120 "the standby $standby becomes the primary" primary_is "$standby"
writes_resume
"$local_bosh" recreate "$primary" >/dev/null || fail "the old primary $primary did not come back"
[ "$(grep -c "$(pg_job "$primary"): the peer .* was promoted (timeline .*): rewound with pg_rewind" "$log")" -gt "$rewinds" ] ||
  fail "the old primary did not rewind: $(tail -n 20 "$log")"
# The output of the last rewind (pg_rewind says "no rewind required" when it finds nothing).
awk '/rewound with pg_rewind/ { block = "" } { block = block $0 "\n" } END { printf "%s", block }' "$log" |
  grep -q '^pg_rewind: Done!$' || fail "pg_rewind did not rewind: $(tail -n 20 "$log")"
eventually 60 "the old primary $primary answers as a standby" is_standby "$primary"
eventually 150 "pgpool attaches the rejoined node (auto_failback) and synchronous replication is back" \
  synchronous_pair
eventually 60 "both backends up in pgpool" both_backends_up
writer_stop_and_check

log "HA: the primary's VM frozen past pgpool's health check, then thawed: the standby is promoted; the fence stops the old primary, which rejoins through pg_rewind"
writer_start
primary="$(primary_of_a)"
standby="$(peer_of "$primary")"
log="$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/vcap/sys/log/$(pg_job "$primary")/pgguard-postgres.log"
fence_log="$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/vcap/sys/log/$(pg_job "$primary")/fence.log"
rewinds="$(grep -c 'rewound with pg_rewind' "$log" || true)"
frozen_at="$SECONDS"
"$local_bosh" freeze "$primary" >/dev/null
# Asked only of the standby: a frozen server takes the connection and never answers. Thawed
# once the standby serves: pgpool-II 4.3's search for the new primary waits on the frozen
# node's connection (its kernel completes the TCP handshake, nothing answers after), so
# writes through the VIP resume only once that gives up, or the node answers again.
eventually 120 "pgpool promotes the standby $standby" serves_as_primary "$standby"
log "  $standby promoted $((SECONDS - frozen_at)) s after the freeze; thawing $primary"
"$local_bosh" thaw "$primary" >/dev/null
eventually 60 "the fence stops the superseded primary $primary" \
  grep -q 'steps down to rejoin as its standby: sent the postmaster' "$fence_log"
eventually 120 "the old primary $primary answers as a standby" is_standby "$primary"
[ "$(grep -c "$(pg_job "$primary"): the peer .* was promoted (timeline .*): rewound with pg_rewind" "$log")" -gt "$rewinds" ] ||
  fail "the thawed primary did not rewind: $(tail -n 20 "$log")"
[ "$(primary_of_a)" = "$standby" ] || fail "after the thaw, A's primary is '$(primary_of_a)', not $standby alone"
writes_resume
log "  writes through the VIP resumed $((SECONDS - frozen_at)) s after the freeze"
eventually 150 "pgpool attaches the rejoined node and synchronous replication is back" synchronous_pair
eventually 60 "both backends up in pgpool" both_backends_up
writer_stop_and_check

log "HA: planned switchover: the primary's drain hands over to the standby, nothing lost; started again, it rejoins"
writer_start
primary="$(primary_of_a)"
standby="$(peer_of "$primary")"
"$local_bosh" stop "$primary" >/dev/null || fail "stop (drain) of $primary failed"
log="$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/vcap/sys/log/$(pg_job "$primary")/pgguard-postgres.log"
tail -n 3 "$log" | grep -q "$(pg_job "$primary"): handed over: the peer .* is the primary" ||
  fail "the drain did not hand over: $(tail -n 10 "$log")"
primary_is "$standby" || fail "after the drain returned, $standby is not the primary"
writes_resume
"$local_bosh" start "$primary" >/dev/null || fail "$primary did not start again"
eventually 60 "the old primary $primary answers as a standby" is_standby "$primary"
eventually 150 "pgpool attaches it and synchronous replication is back" synchronous_pair
eventually 60 "both backends up in pgpool" both_backends_up
writer_stop_and_check

log "HA: kill -9 pgpool's main process where the VIP is not: monit starts pgpool again, clearing what the dead one left"
# Its children outlive it holding pgpool's ports (every restart would fail to bind), and its
# 130 MB of System V shared memory stays until the VM reboots, unless pgguard-pgpool's start
# removes both.
writer_start
holder="$(vip_holders_of_a)"
pool="$(printf '%s\n' a-pgpool-0 a-pgpool-1 a-pgpool-2 | grep -vx "$holder" | head -n 1)"
pool_log="$SECURE_POSTGRES_LOCAL_STATE/vms/$pool/vcap/sys/log/pgpool/pgguard-pgpool.log"
starts="$(pgpool_starts "$pool_log")"
main="$(cat "$SECURE_POSTGRES_LOCAL_STATE/vms/$pool/vcap/sys/run/pgpool/pgpool.pid")"
kill -9 "$main"
eventually 120 "monit starts pgpool on $pool again" pgpool_started_since "$pool_log" "$starts"
grep -q "^killed [0-9]* leftover pgpool processes of a killed pgpool" "$pool_log" ||
  fail "pgpool's start did not clear the dead pgpool's children: $(tail -n 20 "$pool_log")"
grep -q "^removed [0-9]* shared memory segments of pgpool nothing used" "$pool_log" ||
  fail "pgpool's start did not remove the dead pgpool's shared memory: $(tail -n 20 "$pool_log")"
[ "$(large_segments "$pool")" = 1 ] || fail "$pool holds $(large_segments "$pool") large shared memory segments, not pgpool's one"
writes_resume
writer_stop_and_check

log "HA: the pgpool VM holding the VIP lost: the VIP moves, writes resume"
writer_start
holder="$(vip_holders_of_a)"
[ "$(wc -w <<<"$holder")" = 1 ] || fail "A's VIP is held by '$holder', not by one pgpool"
"$local_bosh" fail "$holder" >/dev/null
eventually 90 "another pgpool holds A's VIP" vip_moved_from "$holder"
writes_resume
"$local_bosh" recreate "$holder" >/dev/null || fail "the lost pgpool did not come back"
writer_stop_and_check

log "HA: one pgpool cut off from the other two: no split brain, the VIP only on the quorum side"
writer_start
holder="$(vip_holders_of_a)"
others="$(printf '%s\n' a-pgpool-0 a-pgpool-1 a-pgpool-2 | grep -vx "$holder" | tr '\n' ' ')"
# shellcheck disable=SC2086 # two VM names
"$local_bosh" partition "$holder" $others >/dev/null
eventually 120 "the VIP moves to the quorum side and leaves the cut-off pgpool" vip_moved_from "$holder"
writes_resume
for _ in 1 2 3 4 5; do
  [ "$(vip_holders_of_a | wc -l)" -le 1 ] || fail "split brain: A's VIP is held by $(vip_holders_of_a | tr '\n' ' ')"
  sleep 2
done
"$local_bosh" heal "$holder" >/dev/null
sleep 5
[ "$(vip_holders_of_a | wc -l)" = 1 ] || fail "after the partition healed, A's VIP is held by '$(vip_holders_of_a | tr '\n' ' ')'"
writer_stop_and_check

log "HA: after the faults, A is still cut off from B, and every process still sandboxed (the errand)"
for port in 5432 9999 9898 9000; do
  reaches a-pgpool-0 198.18.0.24 "$port" && fail "A's pgpool reaches B's master on $port after the faults"
  reaches b-pgpool-0 198.18.0.9 "$port" && fail "B's pgpool reaches A's standby on $port after the faults"
done
"$local_bosh" run-errand security-smoke-tests >"$SECURE_POSTGRES_LOCAL_STATE/errand-ha.out" 2>&1 ||
  { cat "$SECURE_POSTGRES_LOCAL_STATE/errand-ha.out"; fail "the errand failed after the faults"; }
