# shellcheck shell=bash disable=SC2154 # local_bosh: set by local_deployment.sh
# High availability under faults, on instance A of the local deployment (sourced by
# local_deployment.sh after its own checks; B stays untouched and must stay cut off). Each
# scenario runs with a client writing through A's VIP the whole time (writer.sh) and ends with
# every acknowledged write present on the primary of that moment; no timing is asserted, only
# bounded waits. Needs: local_bosh, on, fail, log, reaches (local_deployment.sh); the helpers are in
# lib/instance_a.sh.

source "$(dirname "${BASH_SOURCE[0]}")/instance_a.sh"

# begin_with_the_primary: the writer started; primary, standby, its job log and how often it
# has rewound so far.
begin_with_the_primary() {
  writer_start
  primary="$(primary_of_a)"
  standby="$(peer_of "$primary")"
  log="$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/vcap/sys/log/$(pg_job "$primary")/pgguard-postgres.log"
  rewinds="$(grep -c 'rewound with pg_rewind' "$log" || true)"
}

# expect_rewound: the old primary rewound once more since begin_with_the_primary, and that
# rewind's output ends well (pg_rewind says "no rewind required" when it finds nothing).
expect_rewound() {
  [ "$(grep -c "$(pg_job "$primary"): the peer .* was promoted (timeline .*): rewound with pg_rewind" "$log")" -gt "$rewinds" ] ||
    fail "the old primary $primary did not rewind: $(tail -n 20 "$log")"
  awk '/rewound with pg_rewind/ { block = "" } { block = block $0 "\n" } END { printf "%s", block }' "$log" |
    grep -q '^pg_rewind: Done!$' || fail "pg_rewind did not rewind: $(tail -n 20 "$log")"
}

# isolated_and_sandboxed WHEN: after a fault, A and B are still cut off from each other (each
# side's pgpool tries the other's PostgreSQL, pgpool, PCP and watchdog ports) and the
# security-smoke-tests errand passes on every VM (isolation tables in sync, every process as its
# profile says).
isolated_and_sandboxed() {
  local port
  for port in 5432 9999 9898 9000; do
    reaches a-pgpool-0 198.18.0.24 "$port" && fail "A's pgpool reaches B's master on $port $1"
    reaches b-pgpool-0 198.18.0.9 "$port" && fail "B's pgpool reaches A's standby on $port $1"
  done
  "$local_bosh" run-errand security-smoke-tests >"$SECURE_POSTGRES_LOCAL_STATE/errand-ha.out" 2>&1 ||
    { cat "$SECURE_POSTGRES_LOCAL_STATE/errand-ha.out"; fail "the errand failed $1"; }
  log "  A and B still cut off from each other, the errand passes on every VM"
}

"$local_bosh" psql a -c "CREATE TABLE acked (n int PRIMARY KEY)" >/dev/null || fail "cannot create the writer's table"

# pgguard_failover_said TEXT: a pgpool of A logged this line of pgguard-failover.
pgguard_failover_said() { cat "$SECURE_POSTGRES_LOCAL_STATE"/vms/a-pgpool-*/vcap/sys/log/pgpool/pgguard-pgpool.log | grep -qF "pgguard-failover: $1"; }

log "HA: kill -9 the primary's postmaster: monit restarts it sandboxed, no failover, nothing lost"
writer_start
failovers="$(failover_lines)"
primary="$(primary_of_a)"
[ -n "$primary" ] || fail "A has no single primary"
address="$(cat "$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/address")"
node=1 # pgpool's backend 0 is the pg-master VM, 1 the pg-standby VM
[ "$primary" = a-pg-master-0 ] && node=0
postmaster="$(cat "$(pid_file "$primary")")"
# monit is held until pgpool has detached the primary: its restart then lands inside
# pgguard-failover's wait, as when monit's cycle comes late after the crash (with an early
# cycle pgpool only quarantines the node for a moment).
monit_pid="$(cat "$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/vcap/monit/monit.pid")"
kill -STOP "$monit_pid"
kill -9 "$postmaster"
eventually 60 "pgpool detaches $primary and pgguard-failover finds its VM refusing" \
  pgguard_failover_said "node $node ($address): its VM answers, its server does not serve"
kill -CONT "$monit_pid"
eventually 60 "monit restarts the postmaster of $primary" postmaster_replaced "$primary" "$postmaster"
eventually 60 "pgguard-failover keeps $primary and pgpool attaches it back" \
  pgguard_failover_said "node $node ($address) serves as the primary again: nothing else changes"
restarted="$(cat "$(pid_file "$primary")")"
[ "$(awk '$1 == "Uid:" {print $2}' "/proc/$restarted/status")" != 0 ] || fail "the restarted postmaster runs as root"
[ "$(awk '$1 == "Seccomp:" {print $2}' "/proc/$restarted/status")" = 2 ] || fail "the restarted postmaster has no seccomp filter"
[ "$(awk '$1 == "CapEff:" {print $2}' "/proc/$restarted/status")" = 0000000000000000 ] || fail "the restarted postmaster has capabilities"
writes_resume
eventually 60 "the standby streams synchronously from $primary again" synchronous_pair
[ "$(primary_of_a)" = "$primary" ] || fail "the primary moved after a postmaster crash: $(primary_of_a)"
[ "$(failover_lines)" = "$failovers" ] || fail "a crashed postmaster that monit restarted caused a failover"
writer_stop_and_check
isolated_and_sandboxed "after this fault"

log "HA: the primary's VM lost: the standby is promoted, writes resume; the old primary rejoins as a standby through pg_rewind"
begin_with_the_primary
"$local_bosh" fail "$primary" >/dev/null
eventually 120 "the standby $standby becomes the primary" primary_is "$standby"
writes_resume
"$local_bosh" recreate "$primary" >/dev/null || fail "the old primary $primary did not come back"
expect_rewound
eventually 60 "the old primary $primary answers as a standby" is_standby "$primary"
eventually 150 "pgpool attaches the rejoined node (auto_failback) and synchronous replication is back" \
  synchronous_pair
eventually 60 "both backends up in pgpool" both_backends_up
writer_stop_and_check
isolated_and_sandboxed "after this fault"

log "HA: the primary's VM frozen past pgpool's health check, then thawed: the standby is promoted; the fence stops the old primary, which rejoins through pg_rewind"
begin_with_the_primary
fence_log="$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/vcap/sys/log/$(pg_job "$primary")/fence.log"
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
expect_rewound
[ "$(primary_of_a)" = "$standby" ] || fail "after the thaw, A's primary is '$(primary_of_a)', not $standby alone"
writes_resume
log "  writes through the VIP resumed $((SECONDS - frozen_at)) s after the freeze"
eventually 150 "pgpool attaches the rejoined node and synchronous replication is back" synchronous_pair
eventually 60 "both backends up in pgpool" both_backends_up
writer_stop_and_check
isolated_and_sandboxed "after this fault"

log "HA: planned switchover: the primary's drain hands over to the standby, nothing lost; started again, it rejoins"
writer_start
primary="$(primary_of_a)"
standby="$(peer_of "$primary")"
"$local_bosh" stop "$primary" >/dev/null || fail "stop (drain) of $primary failed"
log="$SECURE_POSTGRES_LOCAL_STATE/vms/$primary/vcap/sys/log/$(pg_job "$primary")/pgguard-postgres.log"
# The drain promoted the peer itself, so pgpool need not wait for a restart that never comes.
tail -n 3 "$log" | grep -q "$(pg_job "$primary"): handed over: the peer .* is the primary (promoted it)" ||
  fail "the drain did not hand over: $(tail -n 10 "$log")"
primary_is "$standby" || fail "after the drain returned, $standby is not the primary"
writes_resume
"$local_bosh" start "$primary" >/dev/null || fail "$primary did not start again"
eventually 60 "the old primary $primary answers as a standby" is_standby "$primary"
eventually 150 "pgpool attaches it and synchronous replication is back" synchronous_pair
eventually 60 "both backends up in pgpool" both_backends_up
writer_stop_and_check
isolated_and_sandboxed "after this fault"

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
isolated_and_sandboxed "after this fault"

log "HA: the pgpool VM holding the VIP lost: the VIP moves, writes resume"
writer_start
holder="$(vip_holders_of_a)"
[ "$(wc -w <<<"$holder")" = 1 ] || fail "A's VIP is held by '$holder', not by one pgpool"
"$local_bosh" fail "$holder" >/dev/null
eventually 90 "another pgpool holds A's VIP" vip_moved_from "$holder"
writes_resume
"$local_bosh" recreate "$holder" >/dev/null || fail "the lost pgpool did not come back"
writer_stop_and_check
isolated_and_sandboxed "after this fault"

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
isolated_and_sandboxed "after this fault"
