#!/usr/bin/env bash
# The security-smoke-tests errand on test VMs (tests/lib/vm.sh) as `bosh run-errand` runs it:
# the errand job rendered beside isolation and pg-master (and pg-standby), its bin/run run on
# the VM. Proves: with the jobs started by a real monit as BOSH starts them, every row passes on
# both VMs (exit 0): isolation table in sync, postgres and its children running as the profile
# says, Landlock where SELinux is off, no staging profile, only the design's listeners. Then the
# errand fails (exit 1) naming what deviates: a process listening on a port the design does not
# name (python3 -m http.server), a staging profile rendered beside the others, a postgres started
# without its sandbox (setpriv to the postgres user, no pgguard-launch) with its pid file
# pointing at it, a stale pid file, the isolation table out of sync.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/../../lib/vm.sh"
source "$here/lib.sh"

require_command monit setpriv
jt_begin pgs postgres/pgguard-postgres smoke/pgguard-smoke

master=198.18.30.11
standby=198.18.30.12
pgpool=198.18.30.13
vip=198.18.30.20
vm_create master "$master/16"
vm_create standby "$standby/16"
for vm in master standby; do
  vm_install_pgguard "$vm" "$programs"
done
jt_tls_material "$work/tls" "$master" "$standby" "$vip"
JT_FAILED_LOGS=("$(vm_dir master)/vcap/sys/log/pg-master/pgguard-postgres.log"
  "$(vm_dir master)/vcap/sys/log/pg-master/postgresql.log"
  "$(vm_dir standby)/vcap/sys/log/pg-standby/pgguard-postgres.log"
  "$(vm_dir standby)/vcap/sys/log/pg-standby/postgresql.log"
  "$(vm_dir master)/vcap/monit/monit.log"
  "$(vm_dir standby)/vcap/monit/monit.log")

# input.json for render_job.rb, as the director passes it (properties, links, instance spec).
python3 - "$work" "$master" "$standby" "$pgpool" "$vip" "$pg_bin" <<'PY'
import json, sys
work, master, standby, pgpool, vip, pg_bin = sys.argv[1:]
tls = {name: open(f"{work}/tls/{file}").read() for name, file in
       [("certificate", "server.crt"), ("private_key", "server.key"), ("ca", "ca.crt")]}
links = {"master": {"instances": [{"address": master, "index": 0}]},
         "standby": {"instances": [{"address": standby, "index": 0}]},
         "pgpool": {"instances": [{"address": pgpool, "index": 0}],
                    "properties": {"pgpool": {"vip": vip}}}}
specs = {vm: {"ip": ip, "name": name, "index": 0, "deployment": "smoke-test", "bootstrap": True}
         for vm, ip, name in [("master", master, "pg-master"), ("standby", standby, "pg-standby")]}
isolation = {"isolation": {"control": {"cidrs": ["198.19.128.0/24"]},
                           "service_network": {"cidrs": ["198.18.0.0/16"]}, "vip": [vip]}}
master_link = dict(links["master"])
master_link["properties"] = {"postgres": {
    "port": 5432, "max_connections": 100, "shared_buffers": "128MB", "work_mem": "4MB",
    "max_slot_wal_keep_size": "1GB", "wal_keep_size": "1GB", "synchronous_commit": True,
    "ssl_min_protocol_version": "TLSv1.2", "replication": {"role": "replicator"},
    "failover": {"role": "failover", "password": "failover-secret"}}}
inputs = {
    "isolation-master": {"properties": isolation, "spec": specs["master"], "links": links},
    "isolation-standby": {"properties": isolation, "spec": specs["standby"], "links": links},
    "pg-master": {"properties": {"postgres": {
                      "bin_dir": pg_bin, "tls": tls, "replication": {"password": "replication-secret"},
                 "failover": {"password": "failover-secret"},
                      "roles": [{"name": "app", "password": "app-secret"}],
                      "databases": [{"name": "appdb", "owner": "app"}]}},
                  "spec": specs["master"],
                  "links": {name: links[name] for name in ("standby", "pgpool")}},
    "pg-standby": {"properties": {"postgres": {"bin_dir": pg_bin, "tls": tls,
                                               "replication": {"password": "replication-secret"}}},
                   "spec": specs["standby"], "links": {"master": master_link, "pgpool": links["pgpool"]}},
    # The errand with its defaults: what `bosh run-errand` runs on every VM of the instance.
    "smoke-master": {"properties": {}, "spec": specs["master"], "links": {}},
    "smoke-standby": {"properties": {}, "spec": specs["standby"], "links": {}},
}
for name, value in inputs.items():
    json.dump(value, open(f"{work}/{name}.json", "w"))
PY
vm_render_job master isolation "$work/isolation-master.json"
vm_render_job master pg-master "$work/pg-master.json"
vm_render_job master security-smoke-tests "$work/smoke-master.json"
vm_render_job standby isolation "$work/isolation-standby.json"
vm_render_job standby pg-standby "$work/pg-standby.json"
vm_render_job standby security-smoke-tests "$work/smoke-standby.json"

# errand VM: runs the errand's bin/run on the VM; its output in $errand_output, its exit status
# in $errand_status.
errand() {
  errand_status=0
  errand_output="$(vm_run "$1" /var/vcap/jobs/security-smoke-tests/bin/run 2>&1)" || errand_status=$?
}

# row CHECK SUBJECT RESULT: the table has a row whose first line starts with CHECK, whose
# subject starts with SUBJECT and whose result is RESULT (ok or FAIL).
expect_row() {
  local check="$1" subject="$2" result="$3"
  awk -F' [|] ' -v check="$check" -v subject="$subject" -v result="$result" '
    { gsub(/ +$/, "", $1); gsub(/ +$/, "", $5) }
    $1 == check && index($2, subject) == 1 && $5 == result { found = 1 }
    END { exit found ? 0 : 1 }' <<<"$errand_output" ||
    jt_fail "no '$result' row '$check' for '$subject' in the errand's output:
$errand_output"
}

wait_ready() {
  for _ in $(seq 300); do
    vm_run "$1" "$pg_bin/pg_isready" -q -h "/var/vcap/sys/run/$2" -p 5432 && return 0
    sleep 0.1
  done
  jt_fail "$2 did not accept connections within 30 s"
}

jt_log "pre-start, then monit starts the isolation guard and postgres (master, then standby)"
vm_run master /var/vcap/jobs/isolation/bin/pre-start || jt_fail "isolation pre-start failed"
output="$(vm_run master /var/vcap/jobs/pg-master/bin/pre-start 2>&1)" || jt_fail "pg-master pre-start failed: $output"
jt_monit_up master isolation pg-master
jt_monit master start all
jt_wait_file master /var/vcap/sys/run/pg-master/postgres.pid "postgres started by monit on the master"
wait_ready master pg-master
vm_run standby /var/vcap/jobs/isolation/bin/pre-start || jt_fail "isolation pre-start on the standby failed"
output="$(vm_run standby /var/vcap/jobs/pg-standby/bin/pre-start 2>&1)" || jt_fail "pg-standby pre-start failed: $output"
jt_monit_up standby isolation pg-standby
jt_monit standby start all
jt_wait_file standby /var/vcap/sys/run/pg-standby/postgres.pid "postgres started by monit on the standby"
wait_ready standby pg-standby
postmaster="$(cat "$(vm_dir master)/vcap/sys/run/pg-master/postgres.pid")"
# monit starts the fence beside postgres, in its own time.
jt_wait_file master /var/vcap/sys/run/pg-master/fence.pid "the fence started by monit on the master"
jt_wait_file standby /var/vcap/sys/run/pg-standby/fence.pid "the fence started by monit on the standby"
# The checkpointer and the other auxiliary processes are up once the server accepts connections.

jt_log "the errand passes on the master"
errand master
echo "$errand_output"
[ "$errand_status" -eq 0 ] || jt_fail "the errand failed (exit $errand_status) on a healthy master"
for row in "isolation|table inet secure_postgres" "confinement|this VM" \
  "process|pg-master/postgres pid $postmaster" "identity|pg-master/postgres" \
  "capabilities|pg-master/postgres" "no_new_privs|pg-master/postgres" "seccomp|pg-master/postgres" \
  "seccomp action|pg-master/postgres" "rlimits|pg-master/postgres" "landlock|pg-master/postgres" \
  "children|pg-master/postgres" "process|isolation/guard" "process|pg-master/fence pid" \
  "identity|pg-master/fence" "capabilities|pg-master/fence" "no_new_privs|pg-master/fence" \
  "seccomp|pg-master/fence" "landlock|pg-master/fence" \
  "staging|/var/vcap/data/pg-master/config/*.profile" "listener|tcp $master:5432, postgres" \
  "listener|tcp 127.0.0.1:2822, monit"; do
  expect_row "${row%%|*}" "${row#*|}" ok
done
grep -q "descendants, all as expected" <<<"$errand_output" || jt_fail "the postmaster's children were not checked"
grep -qE "^security-smoke-tests: [0-9]+ checks, 0 failed \(jobs on this VM: isolation, pg-master\)$" <<<"$errand_output" ||
  jt_fail "no summary line naming the jobs of the master"

jt_log "the errand passes on the standby"
errand standby
[ "$errand_status" -eq 0 ] || jt_fail "the errand failed (exit $errand_status) on a healthy standby:
$errand_output"
expect_row process "pg-standby/postgres pid" ok
expect_row children "pg-standby/postgres" ok
expect_row process "pg-standby/fence pid" ok
expect_row listener "tcp $standby:5432, postgres" ok

jt_log "a listener the design does not name fails the errand, naming port, address and process"
vm_run master python3 -m http.server 8765 --bind 0.0.0.0 >/dev/null 2>&1 &
disown $!
for _ in $(seq 100); do
  vm_run master grep -q ':223D 00000000:0000 0A' /proc/net/tcp && break
  sleep 0.1
done
intruder=""
for pid in $(ip netns pids "$(vm_ns master)"); do
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = python3 ] && intruder="$pid"
done
[ -n "$intruder" ] || jt_fail "python3 -m http.server did not start on the master"
errand master
echo "$errand_output"
[ "$errand_status" -eq 1 ] || jt_fail "the errand exited $errand_status with an unlisted listener (expected 1):
$errand_output"
expect_row listener "tcp 0.0.0.0:8765, python3 pid $intruder" FAIL
[ "$(grep -cE '\| FAIL$' <<<"$errand_output")" -eq 1 ] || jt_fail "more failed than the intruder:
$errand_output"
kill "$intruder"

jt_log "a rendered staging profile fails the errand, naming its file and line"
config_dir="$(vm_dir master)/vcap/data/pg-master/config"
{
  grep -v '^default_action' "$config_dir/postgres-server.profile"
  printf '[seccomp]\ndefault_action = log\nstaging = true\n'
} >"$config_dir/staging-trial.profile"
staging_line="$(grep -n '^staging = true$' "$config_dir/staging-trial.profile" | cut -d: -f1)"
errand master
echo "$errand_output"
[ "$errand_status" -eq 1 ] || jt_fail "the errand exited $errand_status with a staging profile (expected 1)"
expect_row staging /var/vcap/data/pg-master/config FAIL
grep -q "STAGING: *|" <<<"$errand_output" && grep -qF "staging-trial.profile:$staging_line" <<<"$errand_output" ||
  jt_fail "the staging profile is not named with its line"
rm "$config_dir/staging-trial.profile"

jt_log "postgres started without its sandbox fails the errand, naming every deviation"
cmdline="$(tr '\0' ' ' <"/proc/$postmaster/cmdline")"
case "$cmdline" in /*) ;; *) cmdline="$pg_bin/$cmdline" ;; esac
jt_monit master stop postgres
for _ in $(seq 300); do
  kill -0 "$postmaster" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$postmaster" 2>/dev/null && jt_fail "monit did not stop postgres"
data="$(vm_dir master)/vcap/store/pg-master/data"
# As an operator (or a start script gone wrong) would: the right user, no pgguard-launch.
# shellcheck disable=SC2086 # the postmaster's own command line, split as it was
vm_run master setpriv --reuid=postgres --regid=postgres --clear-groups -- $cmdline \
  >"$work/unsandboxed.log" 2>&1 &
JT_FAILED_LOGS+=("$work/unsandboxed.log")
disown $!
for _ in $(seq 300); do
  [ -s "$data/postmaster.pid" ] && break
  sleep 0.1
done
wait_ready master pg-master
bare="$(head -n1 "$data/postmaster.pid")"
[ "$(cat "/proc/$bare/comm")" = postgres ] || jt_fail "the unsandboxed postmaster is not running"
echo "$bare" >"$(vm_dir master)/vcap/sys/run/pg-master/postgres.pid"
errand master
echo "$errand_output"
[ "$errand_status" -eq 1 ] || jt_fail "the errand exited $errand_status with an unsandboxed postgres (expected 1):
$errand_output"
for check in capabilities no_new_privs seccomp landlock children; do
  expect_row "$check" "pg-master/postgres pid $bare" FAIL
done
# It inherited this shell's limits: above the profile's (nofile 4096, stack 8 MiB) unless the
# shell's own are that low already.
hard_nofile="$(ulimit -Hn)"
hard_stack="$(ulimit -Hs)"
if [ "$hard_nofile" = unlimited ] || [ "$hard_nofile" -gt 4096 ] || [ "$hard_stack" = unlimited ] ||
  [ "$hard_stack" -gt 8192 ]; then
  expect_row rlimits "pg-master/postgres pid $bare" FAIL
else
  jt_log "(rlimits not checked: this shell's hard limits are within the profile's)"
fi
expect_row identity "pg-master/postgres pid $bare" ok
expect_row process "pg-master/postgres pid $bare" ok

jt_log "a stale pid file fails the errand"
kill -INT "$bare"
for _ in $(seq 300); do
  kill -0 "$bare" 2>/dev/null || break
  sleep 0.1
done
errand master
[ "$errand_status" -eq 1 ] || jt_fail "the errand exited $errand_status with a stale pid file (expected 1)"
expect_row process "pg-master/postgres" FAIL
grep -q "pid $bare is not running (stale pid file)" <<<"$errand_output" || jt_fail "the stale pid file is not named:
$errand_output"

jt_log "the isolation table out of sync fails the errand"
guard="$(cat "$(vm_dir master)/vcap/sys/run/isolation/isolation.pid")"
jt_monit master stop isolation
# monit's stop returns before the guard is gone; until then it would put the table back.
for _ in $(seq 300); do
  kill -0 "$guard" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$guard" 2>/dev/null && jt_fail "monit did not stop the isolation guard"
vm_run master nft delete table inet secure_postgres
errand master
[ "$errand_status" -eq 1 ] || jt_fail "the errand exited $errand_status without the isolation table (expected 1)"
expect_row isolation "table inet secure_postgres" FAIL
expect_row process "isolation/guard" FAIL

jt_log "ok"
