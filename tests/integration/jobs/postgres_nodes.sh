#!/usr/bin/env bash
# The pg-master and pg-standby jobs run as BOSH runs them, on test VMs (tests/lib/vm.sh) with the
# isolation job colocated: their templates rendered from the release, pre-start, then monit's
# start and stop programs exactly as their monit files name them. Proves: initdb and the roles,
# databases, extensions and slot of the properties; the standby copied with pg_basebackup over
# TLS through its slot, streaming synchronously, a write on the master seen on the standby; a
# TLS + scram login from a pgpool VM works; plain text, a wrong password, the superuser over
# TCP, an application login from the standby's address and any connection from another
# instance's VM are refused; postgres and its backends run as the profile says, on both nodes;
# the job's sandbox.rlimits reach the postmaster;
# post-start checks a TLS (verify-full) + scram login on each node's own address and its role;
# a second pre-start changes nothing and keeps the data; a changed password is applied; a
# standby without standby.signal whose peer is the primary on its timeline is not started; without the isolation table in force, start
# refuses to run postgres; stop stops only our postmaster. The pgpool job in front of both: its
# files generated (pool_passwd in AES form), pgpool started by its monit start program under its
# sandbox as its own account; a TLS + scram login through pgpool from an application network
# works and reaches both backends, plain text, a wrong password, the superuser and a login from
# outside the application networks are refused; a second pre-start changes nothing; after a
# reboot (empty /var/vcap/sys/run, no pre-start) monit's start alone brings pgpool and postgres
# back; drain stops pgpool and postgres cleanly and prints only BOSH's integer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/../../lib/vm.sh"
source "$here/lib.sh"

jt_begin pgj postgres/pgguard-postgres pgpool/pgguard-pgpool

master=198.18.20.11
standby=198.18.20.12
pgpool=198.18.20.13
vip=198.18.20.20
app=198.18.20.30       # an application VM, in the instance's client network
stranger=198.18.21.13  # a VM of another service instance
vm_create master "$master/16"
vm_create pgpool "$pgpool/16"
vm_create standby "$standby/16"
vm_create stranger "$stranger/16"
vm_create app "$app/16"
vm_install_pgguard master "$programs"
vm_install_pgguard standby "$programs"
vm_install_pgguard pgpool "$programs"
# One server certificate for the PostgreSQL and pgpool VMs, as the manifest's variable declares it.
jt_tls_material "$work/tls" "$master" "$standby" "$pgpool" "$vip"
JT_FAILED_LOGS=("$(vm_dir master)/vcap/sys/log/pg-master/pgguard-postgres.log"
  "$(vm_dir master)/vcap/sys/log/pg-master/postgresql.log"
  "$(vm_dir master)/vcap/sys/log/pg-master/pre-start-server.log"
  "$(vm_dir standby)/vcap/sys/log/pg-standby/pgguard-postgres.log"
  "$(vm_dir standby)/vcap/sys/log/pg-standby/postgresql.log"
  "$(vm_dir master)/vcap/monit/monit.log"
  "$(vm_dir master)/vcap/sys/log/isolation/isolation.err.log"
  "$(vm_dir pgpool)/vcap/sys/log/pgpool/pgguard-pgpool.log")

# input.json for render_job.rb: what the director passes (properties, links, instance spec).
render_inputs() {
  local app_password="$1"
  python3 - "$work" "$app_password" "$master" "$standby" "$pgpool" "$vip" "$pg_bin" "$app" <<'PY'
import json, sys
work, app_password, master, standby, pgpool, vip, pg_bin, app = sys.argv[1:]
tls = {name: open(f"{work}/tls/{file}").read() for name, file in
       [("certificate", "server.crt"), ("private_key", "server.key"), ("ca", "ca.crt")]}
links = {"master": {"instances": [{"address": master, "index": 0}]},
         "standby": {"instances": [{"address": standby, "index": 0}]},
         "pgpool": {"instances": [{"address": pgpool, "index": 0, "id": "pgpool-0"}],
                    "properties": {"pgpool": {"vip": vip}}}}
master_spec = {"ip": master, "name": "pg-master", "index": 0, "deployment": "jobs-test",
               "bootstrap": True}
standby_spec = {"ip": standby, "name": "pg-standby", "index": 0, "deployment": "jobs-test",
                "bootstrap": True}
pgpool_spec = {"ip": pgpool, "name": "pgpool", "index": 0, "id": "pgpool-0",
               "deployment": "jobs-test", "bootstrap": True}
isolation_properties = {"isolation": {"control": {"cidrs": ["198.19.128.0/24"]},
                                      "service_network": {"cidrs": ["198.18.0.0/16"]},
                                      "clients": {"cidrs": [app + "/32"]},
                                      "vip": [vip]}}
# An operator's rlimit for the server (sandbox.rlimits), seen on the running postmaster below.
master_properties = {"sandbox": {"rlimits": {"nofile": "3000:3000"}}, "postgres": {
                 "bin_dir": pg_bin, "tls": tls,
                 "replication": {"password": "replication-secret"},
                 "failover": {"password": "failover-secret"},
                 "roles": [{"name": "app", "password": app_password},
                           {"name": "pgpool_monitor", "password": "monitor-secret",
                            "member_of": ["pg_monitor"]}],
                 "databases": [{"name": "appdb", "owner": "app", "extensions": ["pgcrypto"]}]}}
# The master link carries the properties pg-master's spec lists under provides (the defaults
# apply to those not set).
master_link = dict(links["master"])
master_link["properties"] = {"postgres": {
    "port": 5432, "max_connections": 100, "shared_buffers": "128MB", "work_mem": "4MB",
    "max_slot_wal_keep_size": "1GB", "wal_keep_size": "1GB", "synchronous_commit": True,
    "ssl_min_protocol_version": "TLSv1.2", "replication": {"role": "replicator"},
    "failover": {"role": "failover", "password": "failover-secret"},
    "roles": master_properties["postgres"]["roles"]}}
inputs = {
    "isolation-master": {"properties": isolation_properties, "spec": master_spec, "links": links},
    "isolation-standby": {"properties": isolation_properties, "spec": standby_spec, "links": links},
    "pg-master": {"properties": master_properties, "spec": master_spec,
                  "links": {name: links[name] for name in ("standby", "pgpool")}},
    "pg-standby": {"properties": {"postgres": {"bin_dir": pg_bin, "tls": tls,
                                               "replication": {"password": "replication-secret"}}},
                   "spec": standby_spec, "links": {"master": master_link, "pgpool": links["pgpool"]}},
    "isolation-pgpool": {"properties": isolation_properties, "spec": pgpool_spec, "links": links},
    "pgpool": {"properties": {"pgpool": {"bin_dir": "/usr/sbin", "postgres_dir": "/usr/lib/postgresql/15",
                                         "tls": tls, "pcp": {"password": "pcp-secret"},
                                         "clients": {"cidrs": [app + "/32"]}}},
               "spec": pgpool_spec,
               "links": {"master": master_link, "standby": links["standby"], "pgpool": links["pgpool"]}},
}
for name, value in inputs.items():
    json.dump(value, open(f"{work}/{name}.json", "w"))
PY
  vm_render_job master isolation "$work/isolation-master.json"
  vm_render_job master pg-master "$work/pg-master.json"
  vm_render_job standby isolation "$work/isolation-standby.json"
  vm_render_job standby pg-standby "$work/pg-standby.json"
  vm_render_job pgpool isolation "$work/isolation-pgpool.json"
  vm_render_job pgpool pgpool "$work/pgpool.json"
}

# wait_ready VM JOB: until the server answers on its socket (bounded, 30 s).
wait_ready() {
  for _ in $(seq 300); do
    vm_run "$1" "$pg_bin/pg_isready" -q -h "/var/vcap/sys/run/$2" -p 5432 && return 0
    sleep 0.1
  done
  jt_fail "$2 did not accept connections within 30 s"
}

# start_node VM JOB: monit's start of the isolation guard, then of postgres, as monit orders
# them (depends on isolation); returns once postgres accepts connections.
start_node() {
  jt_monit_start "$1" isolation isolation
  jt_wait_file "$1" /var/vcap/sys/run/isolation/isolation.pid "$1's isolation guard"
  jt_monit_start "$1" "$2" postgres
  jt_wait_file "$1" "/var/vcap/sys/run/$2/postgres.pid" "$1's postgres pid file"
  wait_ready "$1" "$2"
}

# psql_from VM PASSWORD USER SSLMODE QUERY [HOST [PORT]]: one query from a VM as libpq
# connects, TLS verified against the CA; HOST defaults to the master, PORT to 5432.
psql_from() {
  local vm="$1" password="$2" user="$3" sslmode="$4" query="$5" host="${6:-$master}" port="${7:-5432}"
  cp "$work/tls/ca.crt" "$(vm_dir "$vm")/vcap/data/ca.crt"
  PGPASSWORD="$password" PGCONNECT_TIMEOUT=3 timeout 30 nsenter --target "${VM_HOLDER[$vm]}" \
    --mount --net -- "$pg_bin/psql" -X -At \
    "host=$host port=$port dbname=appdb user=$user sslmode=$sslmode sslrootcert=/var/vcap/data/ca.crt" \
    -c "$query" 2>&1
}

jt_log "render and pre-start: isolation, then pg-master (initdb, roles, databases, slot)"
render_inputs app-secret-1
vm_run master /var/vcap/jobs/isolation/bin/pre-start || jt_fail "isolation pre-start failed"
output="$(vm_run master /var/vcap/jobs/pg-master/bin/pre-start 2>&1)" || jt_fail "pg-master pre-start failed: $output"
for line in "initialised the cluster in /var/vcap/store/pg-master/data" "created role app" \
  "created role replicator" "granted pg_monitor to pgpool_monitor" "created database appdb" \
  "created extension pgcrypto in database appdb" "created physical replication slot standby_0" \
  "installed /var/vcap/data/pg-master/config/server.key"; do
  grep -qxF "$line" <<<"$output" || jt_fail "pre-start did not report '$line'; it printed:
$output"
done
key="$(vm_dir master)/vcap/data/pg-master/config/server.key"
[ "$(stat -c '%U %a' "$key")" = "postgres 600" ] || jt_fail "server.key is $(stat -c '%U %a' "$key")"
data="$(vm_dir master)/vcap/store/pg-master/data"
[ "$(stat -c '%U %a' "$data")" = "postgres 700" ] || jt_fail "the data directory is $(stat -c '%U %a' "$data")"
grep -q "Data page checksum version: *1" <(vm_run master "$pg_bin/pg_controldata" /var/vcap/store/pg-master/data) ||
  jt_fail "the cluster has no data checksums"

jt_log "monit start: the isolation guard, then postgres (depends on isolation)"
start_node master pg-master
postmaster="$(cat "$(vm_dir master)/vcap/sys/run/pg-master/postgres.pid")"

grep -qE '^Max open files +3000 +3000 ' "/proc/$postmaster/limits" ||
  jt_fail "the postmaster does not run with the job's sandbox.rlimits: $(grep 'open files' "/proc/$postmaster/limits")"

jt_log "pg-master post-start: a TLS (verify-full) + scram login on its own address; a primary"
output="$(vm_run master /var/vcap/jobs/pg-master/bin/post-start 2>&1)" || jt_fail "pg-master post-start failed: $output"
[[ "$output" =~ ^"pg-master: accepts TLS + scram on $master:5432 as replicator (system "[0-9]+", timeline 1); primary"$ ]] ||
  jt_fail "pg-master post-start said: $output"
# verify-full: with a CA that did not sign the server's certificate, the check fails.
master_config="$(vm_dir master)/vcap/data/pg-master/config"
cp "$master_config/ca.crt" "$work/ca.crt.kept"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=another CA" \
  -keyout "$work/other-ca.key" -out "$master_config/ca.crt" 2>/dev/null
output="$(vm_run master /var/vcap/packages/pgguard/bin/pgguard-postgres post-start \
  --plan /var/vcap/jobs/pg-master/config/node.conf --wait 1 2>&1)" && jt_fail "post-start passed with a foreign CA: $output"
grep -q "does not accept a TLS + scram login on $master:5432.*certificate verify failed" <<<"$output" ||
  jt_fail "post-start with a foreign CA failed for another reason: $output"
cp "$work/ca.crt.kept" "$master_config/ca.crt"

jt_log "pg-standby: pre-start copies the master (pg_basebackup, TLS, slot standby_0), monit starts it"
vm_run standby /var/vcap/jobs/isolation/bin/pre-start || jt_fail "isolation pre-start on the standby failed"
output="$(vm_run standby /var/vcap/jobs/pg-standby/bin/pre-start 2>&1)" || jt_fail "pg-standby pre-start failed: $output"
grep -qxF "copied the primary $master into /var/vcap/store/pg-standby/data (pg_basebackup, slot standby_0)" <<<"$output" ||
  jt_fail "pg-standby pre-start did not copy the master:
$output"
[ -e "$(vm_dir standby)/vcap/store/pg-standby/data/standby.signal" ] || jt_fail "no standby.signal after the copy"
[ -e "$(vm_dir standby)/vcap/store/pg-standby/data.basebackup" ] && jt_fail "the staging copy was left behind"
[ "$(stat -c '%U %a' "$(vm_dir standby)/vcap/data/pg-standby/config/pgpass")" = "postgres 600" ] ||
  jt_fail "the standby's password file is not postgres 0600"
start_node standby pg-standby
standby_postmaster="$(cat "$(vm_dir standby)/vcap/sys/run/pg-standby/postgres.pid")"
output="$(vm_run standby /var/vcap/jobs/pg-standby/bin/post-start 2>&1)" || jt_fail "pg-standby post-start failed: $output"
[[ "$output" =~ ^"pg-standby: accepts TLS + scram on $standby:5432 as replicator (system "[0-9]+", timeline 1); standby, streaming from $master"$ ]] ||
  jt_fail "pg-standby post-start said: $output"

jt_log "a TLS + scram login from the pgpool VM works; the write is acknowledged synchronously"
result="$(psql_from pgpool app-secret-1 app verify-full \
  "CREATE TABLE IF NOT EXISTS t (v text); INSERT INTO t VALUES ('kept'); SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" ||
  jt_fail "login from pgpool failed: $result"
[ "$(tail -n1 <<<"$result")" = t ] || jt_fail "the session is not TLS: $result"
result="$(psql_from pgpool monitor-secret pgpool_monitor verify-full \
  "SELECT application_name, sync_state, ssl FROM pg_stat_replication JOIN pg_stat_ssl USING (pid)")" ||
  jt_fail "pg_stat_replication cannot be read: $result"
# synchronous_standby_names = ANY 1 (...): a quorum of one, reported as "quorum".
[ "$result" = "standby_0|quorum|t" ] || jt_fail "the standby does not stream synchronously over TLS: $result"

jt_log "the write is on the standby (hot standby, read from the pgpool VM)"
result="$(psql_from pgpool app-secret-1 app verify-full "SELECT v FROM t" "$standby")" ||
  jt_fail "reading the standby failed: $result"
[ "$result" = kept ] || jt_fail "the standby does not have the master's write: $result"
result="$(psql_from pgpool app-secret-1 app verify-full "INSERT INTO t VALUES ('x')" "$standby")" &&
  jt_fail "the standby accepted a write"
grep -q "read-only transaction" <<<"$result" || jt_fail "the standby refused the write for another reason: $result"

jt_log "pgpool: pre-start generates its files (pool_passwd in AES form), monit starts it sandboxed"
vm_run pgpool /var/vcap/jobs/isolation/bin/pre-start || jt_fail "isolation pre-start on the pgpool VM failed"
output="$(vm_run pgpool /var/vcap/jobs/pgpool/bin/pre-start 2>&1)" || jt_fail "pgpool pre-start failed: $output"
for line in "made a new pool_passwd key /var/vcap/data/pgpool/config/pgpool.key" \
  "wrote /var/vcap/data/pgpool/config/pgpool.conf" "wrote /var/vcap/data/pgpool/config/pool_passwd" \
  "installed /var/vcap/data/pgpool/config/server.key"; do
  grep -qxF "$line" <<<"$output" || jt_fail "pgpool pre-start did not report '$line'; it printed:
$output"
done
pool_config="$(vm_dir pgpool)/vcap/data/pgpool/config"
grep -qx "app:AES[A-Za-z0-9+/=]*" "$pool_config/pool_passwd" || jt_fail "pool_passwd holds no AES entry for app"
grep -q "app-secret\|monitor-secret" "$pool_config/pool_passwd" && jt_fail "pool_passwd holds a clear password"
[ "$(vm_run pgpool stat -c '%U %a' /var/vcap/data/pgpool/config/pgpool.key)" = "pgpool 600" ] ||
  jt_fail "the pool_passwd key is not pgpool 0600"
pgpool_uid="$(vm_run pgpool id -u pgpool)"
[ "$pgpool_uid" != "$(id -u postgres)" ] || jt_fail "pgpool shares postgres' account"
jt_monit_start pgpool isolation isolation
jt_wait_file pgpool /var/vcap/sys/run/isolation/isolation.pid "the pgpool VM's isolation guard"
jt_monit_start pgpool pgpool pgpool
jt_wait_file pgpool /var/vcap/sys/run/pgpool/pgpool.pid "pgpool's pid file"
pgpool_main="$(cat "$(vm_dir pgpool)/vcap/sys/run/pgpool/pgpool.pid")"

jt_log "pgpool: a TLS + scram login from the application network reaches both backends"
for _ in $(seq 300); do
  result="$(psql_from app app-secret-1 app verify-full "SELECT v FROM t" "$pgpool" 9999)" && break
  sleep 0.2
done
[ "$result" = kept ] || jt_fail "no login through pgpool: $result"
result="$(psql_from app app-secret-1 app verify-full "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" "$pgpool" 9999)"
[ "$result" = t ] || jt_fail "pgpool's backend connection is not TLS: $result"
for _ in $(seq 150); do
  result="$(psql_from app app-secret-1 app verify-full "SHOW pool_nodes" "$pgpool" 9999 |
    awk -F'|' '{print $2 ":" $4 ":" $7}' | sort | tr '\n' ' ')"
  [ "$result" = "$master:up:primary $standby:up:standby " ] && break
  sleep 0.2
done
[ "$result" = "$master:up:primary $standby:up:standby " ] || jt_fail "pgpool does not see both backends up: $result"
output="$(vm_run pgpool /var/vcap/jobs/pgpool/bin/post-start 2>&1)" || jt_fail "pgpool post-start failed: $output"
[ "$output" = "pgpool: accepts TLS + scram on $pgpool:9999 as pgpool_monitor; backends: $master up primary, $standby up standby" ] ||
  jt_fail "pgpool post-start said: $output"

jt_log "pgpool: refused: plain text, a wrong password, the superuser, a login from outside the client network"
result="$(psql_from app app-secret-1 app disable "SELECT 1" "$pgpool" 9999)" && jt_fail "a plain-text login through pgpool worked: $result"
grep -q 'no pool_hba.conf entry' <<<"$result" || jt_fail "plain text refused for another reason: $result"
result="$(psql_from app wrong app verify-full "SELECT 1" "$pgpool" 9999)" && jt_fail "a wrong password worked through pgpool"
grep -q 'password authentication failed\|authentication failed' <<<"$result" || jt_fail "wrong password refused for another reason: $result"
result="$(psql_from app x postgres verify-full "SELECT 1" "$pgpool" 9999)" && jt_fail "the superuser logged in through pgpool"
grep -q 'pool_hba.conf' <<<"$result" || jt_fail "the superuser was refused for another reason: $result"
result="$(psql_from standby app-secret-1 app verify-full "SELECT 1" "$pgpool" 9999)" && jt_fail "a login from the standby's address (no client network) worked through pgpool"
grep -q 'no pool_hba.conf entry' <<<"$result" || jt_fail "the standby's login was refused for another reason: $result"
result="$(psql_from stranger app-secret-1 app verify-full "SELECT 1" "$pgpool" 9999)" && jt_fail "another instance's VM reached pgpool"

jt_log "pgpool runs sandboxed as its own account: the main process and its children"
jt_expect_sandboxed "pgpool main $pgpool_main" "$pgpool_main" "$pgpool_uid"
[ "$(cat "/proc/$pgpool_main/comm")" = pgpool ] || jt_fail "the pid file names $(cat "/proc/$pgpool_main/comm"), not pgpool"
children="$(pgrep -P "$pgpool_main")"
[ -n "$children" ] || jt_fail "pgpool has no child processes"
for child in $children; do
  jt_expect_sandboxed "pgpool child $child" "$child" "$pgpool_uid"
done

jt_log "pgpool: a second pre-start changes nothing; stop is a fast shutdown of our pgpool only"
output="$(vm_run pgpool /var/vcap/jobs/pgpool/bin/pre-start 2>&1)" || jt_fail "pgpool's second pre-start failed: $output"
[ "$output" = "pgpool: nothing changed" ] || jt_fail "pgpool's second pre-start changed something:
$output"
output="$(jt_monit_stop pgpool pgpool pgpool 2>&1)" || jt_fail "pgpool stop failed: $output"
kill -0 "$pgpool_main" 2>/dev/null && jt_fail "pgpool still runs after stop"
[ -e "$(vm_dir pgpool)/vcap/sys/run/pgpool/pgpool.pid" ] && jt_fail "stop left pgpool's pid file"
grep -q "pgpool: stopped pid $pgpool_main (fast shutdown)" "$(vm_dir pgpool)/vcap/sys/log/pgpool/pgguard-pgpool.log" ||
  jt_fail "no stop line in pgpool's log"

jt_log "pgpool after a reboot: /var/vcap/sys/run is empty and only monit's start runs"
rm -rf "$(vm_dir pgpool)/vcap/sys/run/pgpool"
# pgpool's own pid file survives on the ephemeral disk and may name the killed pgpool while it
# is still a zombie (pgpool itself takes that for a running pgpool): a zombie pgpool of the
# pgpool account, whose parent never reaps it.
mkdir -m 0755 "$work/zombie"
chmod 0711 "$work"
cp /bin/sleep "$work/zombie/pgpool"
bash -c 'setpriv --reuid="$1" --regid="$1" --clear-groups -- "$2" 0.05 & echo $! >"$3"; exec sleep 60' \
  zombie-parent "$pgpool_uid" "$work/zombie/pgpool" "$work/zombie.pid" &
zombie_parent=$!
for _ in $(seq 50); do
  [ -s "$work/zombie.pid" ] && [ "$(awk '{print $3}' "/proc/$(cat "$work/zombie.pid")/stat" 2>/dev/null)" = Z ] && break
  sleep 0.1
done
[ "$(awk '{print $3}' "/proc/$(cat "$work/zombie.pid")/stat")" = Z ] || jt_fail "no zombie pgpool to plant"
cp "$work/zombie.pid" "$(vm_dir pgpool)/vcap/data/pgpool/state/pgpool-main.pid"
jt_monit_start pgpool pgpool pgpool
jt_wait_file pgpool /var/vcap/sys/run/pgpool/pgpool.pid "pgpool's pid file after the reboot"
for _ in $(seq 300); do
  result="$(psql_from app app-secret-1 app verify-full "SELECT v FROM t" "$pgpool" 9999)" && break
  sleep 0.2
done
[ "$result" = kept ] || jt_fail "no login through pgpool after the reboot: $result"
kill "$zombie_parent"

jt_log "pgpool drain: the clean stop; stdout holds only BOSH's integer, also when repeated"
pgpool_main="$(cat "$(vm_dir pgpool)/vcap/sys/run/pgpool/pgpool.pid")"
for round in first second; do
  output="$(vm_run pgpool /var/vcap/jobs/pgpool/bin/drain 2>"$work/drain.err")" || jt_fail "pgpool's $round drain failed"
  [ "$output" = 0 ] || jt_fail "pgpool's $round drain printed '$output', not 0"
  [ -s "$work/drain.err" ] && jt_fail "pgpool's $round drain wrote to stderr: $(cat "$work/drain.err")"
done
kill -0 "$pgpool_main" 2>/dev/null && jt_fail "pgpool still runs after drain"
grep -q "pgpool: stopped pid $pgpool_main (fast shutdown)" "$(vm_dir pgpool)/vcap/sys/log/pgpool/pgguard-pgpool.log" ||
  jt_fail "no drain line in pgpool's log"
output="$(vm_run pgpool /var/vcap/packages/pgguard/bin/pgguard-pgpool post-start \
  --plan /var/vcap/jobs/pgpool/config/pool.conf --wait 1 2>&1)" && jt_fail "post-start passed with pgpool stopped: $output"
grep -q "pgpool does not accept a TLS + scram login on $pgpool:9999" <<<"$output" ||
  jt_fail "post-start with pgpool stopped failed for another reason: $output"

jt_log "refused: plain text, a wrong password, the superuser over TCP, the standby's address, another instance"
result="$(psql_from pgpool app-secret-1 app disable "SELECT 1")" && jt_fail "a plain-text login worked: $result"
grep -q 'pg_hba.conf rejects connection' <<<"$result" || jt_fail "plain text refused for another reason: $result"
result="$(psql_from pgpool wrong app verify-full "SELECT 1")" && jt_fail "a wrong password worked"
grep -q 'password authentication failed' <<<"$result" || jt_fail "wrong password refused for another reason: $result"
result="$(psql_from pgpool x postgres verify-full "SELECT 1")" && jt_fail "the superuser logged in over TCP"
grep -q 'pg_hba.conf rejects connection' <<<"$result" || jt_fail "remote superuser refused for another reason: $result"
result="$(psql_from standby app-secret-1 app verify-full "SELECT 1")" && jt_fail "an application login from the standby's address worked"
grep -q 'pg_hba.conf rejects connection' <<<"$result" || jt_fail "standby's login refused for another reason: $result"
result="$(psql_from stranger app-secret-1 app verify-full "SELECT 1")" && jt_fail "another instance's VM reached postgres"
grep -qE 'timeout expired|Connection timed out|No route to host' <<<"$result" ||
  jt_fail "another instance's VM was refused by something else than the firewall: $result"

jt_log "postgres runs sandboxed: the postmasters and their children, on both nodes"
for pid in "$postmaster" "$standby_postmaster"; do
  jt_expect_sandboxed "postmaster $pid" "$pid" postgres
  children="$(pgrep -P "$pid")"
  [ -n "$children" ] || jt_fail "postmaster $pid has no child processes"
  for child in $children; do
    jt_expect_sandboxed "child $child ($(cat "/proc/$child/comm")) of $pid" "$child" postgres
  done
done

jt_log "pg-standby: a second pre-start keeps the standby; without standby.signal (never promoted) it does not start"
output="$(jt_monit_stop standby pg-standby postgres 2>&1)" || jt_fail "standby stop failed: $output"
output="$(vm_run standby /var/vcap/jobs/pg-standby/bin/pre-start 2>&1)" || jt_fail "the standby's second pre-start failed: $output"
[ "$output" = "pg-standby: nothing changed" ] || jt_fail "the standby's second pre-start changed something:
$output"
signal="$(vm_dir standby)/vcap/store/pg-standby/data/standby.signal"
mv "$signal" "$signal.aside"
if output="$(vm_run standby /var/vcap/packages/pgguard/bin/pgguard-postgres start \
  --plan /var/vcap/jobs/pg-standby/config/node.conf 2>&1)"; then
  jt_fail "a standby without standby.signal started"
fi
grep -q "has no standby.signal, and the peer $master serves on the same timeline 1 as a primary: refusing to start as a second primary" <<<"$output" ||
  jt_fail "refused for another reason: $output"
output="$(vm_run standby /var/vcap/jobs/pg-standby/bin/pre-start 2>&1)" &&
  jt_fail "pre-start accepted a data directory that would be a second primary: $output"
grep -q "refusing to start as a second primary" <<<"$output" ||
  jt_fail "pre-start refused a second primary for another reason: $output"
mv "$signal.aside" "$signal"
jt_monit_start standby pg-standby postgres
wait_ready standby pg-standby

jt_log "drain (BOSH's clean stop; only 0 on stdout), then a second pre-start: nothing changes, the data is kept"
# Without a streaming standby: nobody to hand over to (the switchover is the acceptance test's).
output="$(jt_monit_stop standby pg-standby postgres 2>&1)" || jt_fail "standby stop failed: $output"
output="$(vm_run master /var/vcap/jobs/pg-master/bin/drain 2>"$work/drain.err")" || jt_fail "pg-master drain failed"
[ "$output" = 0 ] || jt_fail "pg-master drain printed '$output', not 0"
[ -s "$work/drain.err" ] && jt_fail "pg-master drain wrote to stderr: $(cat "$work/drain.err")"
kill -0 "$postmaster" 2>/dev/null && jt_fail "the postmaster still runs after drain"
[ -e "$(vm_dir master)/vcap/sys/run/pg-master/postgres.pid" ] && jt_fail "drain left the pid file for monit to misread"
grep -q "pg-master: stopped pid $postmaster (fast shutdown)" \
  "$(vm_dir master)/vcap/sys/log/pg-master/pgguard-postgres.log" || jt_fail "no drain line in the log"
output="$(jt_monit_stop master pg-master postgres 2>&1)" || jt_fail "monit's stop after drain failed: $output"
output="$(vm_run master /var/vcap/jobs/pg-master/bin/pre-start 2>&1)" || jt_fail "the second pre-start failed: $output"
# The standby is stopped: the fence says so in one notice line, and changes nothing.
grep -q "^pg-master: notice: the peer $standby does not answer; this node serves as the primary" <<<"$output" ||
  jt_fail "no notice of the absent peer: $output"
[ "$(grep -v ': notice: ' <<<"$output")" = "pg-master: nothing changed" ] || jt_fail "the second pre-start changed something:
$output"

jt_log "a link planted in the postgres-owned log directory is not followed by root"
planted="$(vm_dir master)/vcap/sys/log/pg-master/pre-start-server.log"
mv "$planted" "$planted.kept"
echo "not for postgres" >"$work/victim"
ln -s "$work/victim" "$planted"
output="$(vm_run master /var/vcap/jobs/pg-master/bin/pre-start 2>&1)" && jt_fail "pre-start followed a planted link: $output"
[ "$(cat "$work/victim")" = "not for postgres" ] || jt_fail "the link's target was written"
rm "$planted"
mv "$planted.kept" "$planted"

jt_log "a changed password: only that changes; the new one logs in, the old one not"
render_inputs app-secret-2
output="$(vm_run master /var/vcap/jobs/pg-master/bin/pre-start 2>&1)" || jt_fail "pre-start with a new password failed: $output"
[ "$(grep -v ': notice: ' <<<"$output")" = "set the password of role app" ] || jt_fail "a password change did more or less:
$output"
jt_monit_start master pg-master postgres
for _ in $(seq 300); do
  vm_run master "$pg_bin/pg_isready" -q -h /var/vcap/sys/run/pg-master -p 5432 && break
  sleep 0.1
done
result="$(psql_from pgpool app-secret-2 app verify-full "SELECT v FROM t")" || jt_fail "the new password does not log in: $result"
[ "$result" = kept ] || jt_fail "the row written before is gone: $result"
psql_from pgpool app-secret-1 app verify-full "SELECT 1" >/dev/null && jt_fail "the old password still logs in"
jt_monit_stop master pg-master postgres >/dev/null

jt_log "without the isolation table in force, start refuses to run postgres"
jt_monit_stop master isolation isolation
vm_run master nft delete table inet secure_postgres
if output="$(vm_run master /var/vcap/packages/pgguard/bin/pgguard-postgres start \
  --plan /var/vcap/jobs/pg-master/config/node.conf --isolation-wait 1 2>&1)"; then
  jt_fail "postgres started without isolation"
fi
grep -q "the isolation table is not in force after 1 s" <<<"$output" || jt_fail "start refused for another reason: $output"
[ -e "$(vm_dir master)/vcap/sys/run/pg-master/postgres.pid" ] && jt_fail "a pid file was written"
for pid in $(ip netns pids "$(vm_ns master)"); do
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] && jt_fail "a postgres process runs: $pid"
done

jt_log "stop signals only our postmaster (a stale pid file names another process)"
sleep 300 &
stray=$!
echo "$stray" >"$(vm_dir master)/vcap/sys/run/pg-master/postgres.pid"
output="$(jt_monit_stop master pg-master postgres 2>&1)" || jt_fail "stop with a stale pid file failed: $output"
kill -0 "$stray" 2>/dev/null || jt_fail "stop killed pid $stray, which is not postgres"
kill "$stray"

jt_log "under a real monit, as after a reboot (empty /var/vcap/sys/run): start all; a killed postmaster is restarted, under the same sandbox"
rm -rf "$(vm_dir master)/vcap/sys/run/pg-master"
vm_run master nft delete table inet secure_postgres 2>/dev/null || true
jt_monit_up master isolation pg-master
jt_monit master start all
jt_wait_file master /var/vcap/sys/run/pg-master/postgres.pid "postgres started by monit"
wait_ready master pg-master
first="$(cat "$(vm_dir master)/vcap/sys/run/pg-master/postgres.pid")"
vm_run master nft list table inet secure_postgres >/dev/null || jt_fail "monit started postgres without the isolation table"
kill -KILL "$first"
for _ in $(seq 300); do
  second="$(cat "$(vm_dir master)/vcap/sys/run/pg-master/postgres.pid" 2>/dev/null || true)"
  [ -n "$second" ] && [ "$second" != "$first" ] && kill -0 "$second" 2>/dev/null && break
  sleep 0.1
done
[ -n "$second" ] && [ "$second" != "$first" ] || jt_fail "monit did not restart the killed postmaster within 30 s"
wait_ready master pg-master
jt_expect_sandboxed "the restarted postmaster" "$second" postgres
result="$(psql_from pgpool app-secret-2 app verify-full "SELECT v FROM t")" || jt_fail "no login after the restart: $result"
[ "$result" = kept ] || jt_fail "the data is not there after the restart: $result"
jt_monit master stop all
for _ in $(seq 300); do
  kill -0 "$second" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$second" 2>/dev/null && jt_fail "monit stop all did not stop postgres"

jt_log "ok"
