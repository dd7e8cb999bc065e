#!/usr/bin/env bash
# The isolation job's own monit start and stop programs, run as monit runs them, on a test VM
# (tests/lib/vm.sh) whose /var/vcap holds the job rendered from the release's templates and the
# pgguard package of this build.
# The guard must: publish its pid only with the table in force; refuse a second copy; put the
# table back at once after another program deletes it or changes a rule, naming the committer;
# restore a changed sysctl within its recheck interval; stop on SIGTERM keeping the rules; bring
# the table back on start after a "reboot" (table gone, no pre-start); refuse a bad config
# without touching the kernel. `stop` must never signal a process that does not hold the
# guard's pid file lock.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/../../lib/vm.sh"

require_nftables
require_command ruby nsenter flock
isolate="${PGGUARD_BIN_DIR:-/nonexistent}/isolate/pgguard-isolate"
[ -x "$isolate" ] || { echo "FAIL: pgguard-isolate not built at $isolate" >&2; exit 1; }

# Per-run names: another run of this test, or of the other isolation tests, keeps its own.
prefix="pgg$$"
work="$(mktemp -d "/tmp/$prefix.XXXXXX")"
stray_pid=""
cleanup() {
  [ -n "$stray_pid" ] && kill "$stray_pid" 2>/dev/null
  vm_cleanup
  rm -rf "$work"
}
trap cleanup EXIT
vm_init "$prefix" "$work/run"
self4=198.18.9.11
vm_create vm "$self4/16"
vcap="$(vm_dir vm)/vcap"

fail() {
  echo "FAIL: $*" >&2
  echo "--- isolation.log" >&2
  cat "$vcap/sys/log/isolation/isolation.log" >&2 2>/dev/null
  echo "--- isolation.err.log" >&2
  cat "$vcap/sys/log/isolation/isolation.err.log" >&2 2>/dev/null
  exit 1
}
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
in_ns() { vm_run vm "$@"; }

render() {
  local recheck="$1" control="$2"
  cat >"$work/input.json" <<JSON
{"properties": {"isolation": {"control": {"cidrs": ["$control"]},
                              "service_network": {"cidrs": ["198.18.0.0/16"]},
                              "recheck_seconds": $recheck}},
 "spec": {"ip": "$self4", "name": "pg-master", "index": 0, "deployment": "$prefix"},
 "links": {"master": {"instances": [{"address": "$self4", "index": 0}]},
           "standby": {"instances": [{"address": "198.18.9.12", "index": 0}]},
           "pgpool": {"instances": [{"address": "198.18.9.13", "index": 0},
                                    {"address": "198.18.9.14", "index": 1},
                                    {"address": "198.18.9.15", "index": 2}]}}}
JSON
  vm_render_job vm isolation "$work/input.json"
}
vm_install_pgguard vm "$PGGUARD_BIN_DIR"
render 1 198.19.128.0/24
pid_file="$vcap/sys/run/isolation/isolation.pid"
config=/var/vcap/jobs/isolation/config/isolation.conf

# start_guard: monit's start program, in the background as monit detaches it; waits (bounded)
# for the pid file monit would read.
start_guard() {
  vm_run vm /var/vcap/jobs/isolation/bin/isolation_ctl start &
  local i
  for i in $(seq 200); do
    [ -s "$pid_file" ] && return 0
    sleep 0.05
  done
  fail "the guard published no pid within 10 s"
}
guard_pid() { cat "$pid_file"; }
table_present() { in_ns nft list table inet secure_postgres >/dev/null 2>&1; }
in_sync() { vm_run vm /var/vcap/packages/pgguard/bin/pgguard-isolate verify --full --config "$config" >/dev/null; }
# wait_until DESCRIPTION CMD...: polls CMD for up to 10 s (bounded; the guard reacts in ms).
wait_until() {
  local what="$1" i
  shift
  for i in $(seq 100); do
    "$@" && return 0
    sleep 0.1
  done
  fail "not within 10 s: $what"
}

log "a fresh VM: start publishes the pid only with the table in force"
table_present && fail "the table exists before the guard started"
start_guard
# No waiting here: the pid file is written after the apply, so the table must be there now.
table_present || fail "the pid file was published before the table was in force"
in_sync || fail "the table is not in sync right after the guard started"
pid="$(guard_pid)"
[ "$(in_ns cat "/proc/$pid/comm")" = pgguard-isolate ] || fail "the pid file names $(cat "/proc/$pid/comm") ($pid)"

log "a second copy is refused and the first keeps running"
if output="$(vm_run vm /var/vcap/packages/pgguard/bin/pgguard-isolate guard --config "$config" \
  --pid-file /var/vcap/sys/run/isolation/isolation.pid 2>&1)"; then
  fail "a second guard started: $output"
fi
grep -q "another copy holds the pid file .* (pid $pid)" <<<"$output" || fail "second copy's message: $output"
[ "$(guard_pid)" = "$pid" ] && kill -0 "$pid" || fail "the first guard is gone after the second was refused"

log "another program deletes the table: put back at once, the committer named"
in_ns nft delete table inet secure_postgres
wait_until "the deleted table is back" table_present
wait_until "the table is in sync after the delete" in_sync
grep -q "repaired after generation [0-9]* committed by pid [0-9]* (nft): table inet secure_postgres created" \
  "$vcap/sys/log/isolation/isolation.log" || fail "no repair line naming nft after the delete"

log "another program adds an accept-all rule at the top: removed"
in_ns nft insert rule inet secure_postgres input accept
wait_until "the inserted rule is gone" in_sync
in_ns nft list chain inet secure_postgres input | grep -qE '^\s+accept$' && fail "an accept-all rule is still in the input chain"

log "another table changes: nothing of ours is rewritten"
repairs_before="$(grep -c repaired "$vcap/sys/log/isolation/isolation.log")"
in_ns nft add table inet "${prefix}_other"
sleep 0.5
[ "$(grep -c repaired "$vcap/sys/log/isolation/isolation.log")" = "$repairs_before" ] ||
  fail "a commit to another table made the guard rewrite ours"

log "a hardening sysctl is turned off: restored within the recheck interval (1 s here)"
in_ns sysctl -qw net.ipv4.conf.eth0.rp_filter=0
rp_filter_strict() { [ "$(in_ns sysctl -n net.ipv4.conf.eth0.rp_filter)" = 1 ]; }
wait_until "rp_filter restored" rp_filter_strict

log "stop: the guard exits on SIGTERM, pid file removed, rules kept"
vm_run vm /var/vcap/jobs/isolation/bin/isolation_ctl stop
kill -0 "$pid" 2>/dev/null && fail "the guard still runs after stop"
[ -e "$pid_file" ] && fail "the pid file is left after a clean stop"
table_present || fail "stopping the job removed the rules"
grep -q "stopping on SIGTERM; the rules stay in force" "$vcap/sys/log/isolation/isolation.log" ||
  fail "no stop line in the log"

log "reboot: the table is gone and no pre-start runs; monit's start alone brings it back"
in_ns nft delete table inet secure_postgres
start_guard
table_present || fail "after the reboot the pid file was published before the table was in force"
in_sync || fail "not in sync after the reboot start"
vm_run vm /var/vcap/jobs/isolation/bin/isolation_ctl stop

log "a stale pid file (guard killed) names another process: stop signals nothing"
sleep 300 &
stray_pid=$!
echo "$stray_pid" >"$pid_file"
vm_run vm /var/vcap/jobs/isolation/bin/isolation_ctl stop || fail "stop with a stale pid file failed"
kill -0 "$stray_pid" 2>/dev/null || fail "stop killed pid $stray_pid, which never held the guard's lock"
kill "$stray_pid"
stray_pid=""
rm -f "$pid_file"

log "a bad config: the guard exits 2 before touching the kernel, publishes nothing"
before="$(in_ns nft list ruleset)"
sed -i 's/^self = .*/self = 198.18.9.300/' "$vcap/jobs/isolation/config/isolation.conf"
set +e
vm_run vm /var/vcap/jobs/isolation/bin/isolation_ctl start
status=$?
set -e
[ "$status" = 2 ] || fail "a bad config made the guard exit $status, expected 2"
grep -q "isolation.conf:[0-9]*: self: " "$vcap/sys/log/isolation/isolation.err.log" ||
  fail "the error does not name file:line: key"
[ -s "$pid_file" ] && fail "a guard with a bad config published a pid"
[ "$(in_ns nft list ruleset)" = "$before" ] || fail "a bad config changed the ruleset"

log "ok"
