#!/usr/bin/env bash
# Three pgpool VMs with the watchdog and the VIP, as BOSH runs the pgpool job (tests/lib/vm.sh
# VMs, the isolation job colocated), in front of a pg-master: the templates rendered from the
# release, pre-start, then monit's start programs in monit's order (the VIP broker before
# pgpool). Proves: the three nodes form one cluster and exactly one VM holds the VIP, brought up
# by the VIP broker at pgpool's request (pgpool itself holds no capability); an application
# logs in through the VIP with TLS + scram; the broker runs as its own account with exactly
# CAP_NET_ADMIN + CAP_NET_RAW, no_new_privs and seccomp, pgpool with none, and the
# security-smoke-tests errand passes on every pgpool VM; when the VIP holder's
# pgpool stops, another node takes the VIP over and the application logs in again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/../../lib/vm.sh"
source "$here/lib.sh"

[ -x /usr/sbin/pgpool ] || missing_prerequisite "pgpool-II (/usr/sbin/pgpool; apt-get install pgpool2)"
jt_begin pgw pgpool/pgguard-pgpool vip/pgguard-vip smoke/pgguard-smoke

master=198.18.40.11
pools=(198.18.40.13 198.18.40.14 198.18.40.15)
vip=198.18.40.20
app=198.18.40.30
vm_create master "$master/16"
for n in 0 1 2; do
  vm_create "pool$n" "${pools[$n]}/16"
  vm_install_pgguard "pool$n" "$programs"
done
vm_create app "$app/16"
vm_install_pgguard master "$programs"
jt_tls_material "$work/tls" "$master" "${pools[@]}" "$vip"
JT_FAILED_LOGS=("$(vm_dir master)/vcap/sys/log/pg-master/postgresql.log")
for n in 0 1 2; do
  JT_FAILED_LOGS+=("$(vm_dir "pool$n")/vcap/sys/log/pgpool/pgguard-pgpool.log"
    "$(vm_dir "pool$n")/vcap/sys/log/pgpool/vip-broker.log")
done

python3 - "$work" "$master" "$vip" "$app" "$pg_bin" "${pools[@]}" <<'PY'
import json, sys
work, master, vip, app, pg_bin, *pools = sys.argv[1:]
tls = {name: open(f"{work}/tls/{file}").read() for name, file in
       [("certificate", "server.crt"), ("private_key", "server.key"), ("ca", "ca.crt")]}
roles = [{"name": "app", "password": "app-secret"},
         {"name": "pgpool_monitor", "password": "monitor-secret", "member_of": ["pg_monitor"]}]
pgpool_link = {"instances": [{"address": a, "index": i, "id": f"pgpool-{i}"} for i, a in enumerate(pools)],
               "properties": {"pgpool": {"vip": vip}}}
master_link = {"instances": [{"address": master, "index": 0}],
               "properties": {"postgres": {"port": 5432, "roles": roles,
                                           "failover": {"role": "failover", "password": "failover-secret"}}}}
isolation = {"isolation": {"control": {"cidrs": ["198.19.128.0/24"]},
                           "service_network": {"cidrs": ["198.18.0.0/16"]},
                           "clients": {"cidrs": [app + "/32"]}, "vip": [vip]}}
links = {"master": master_link, "pgpool": pgpool_link}
master_spec = {"ip": master, "name": "pg-master", "index": 0, "deployment": "jobs-test"}
json.dump({"properties": isolation, "spec": master_spec, "links": links}, open(f"{work}/isolation-master.json", "w"))
json.dump({"properties": {"postgres": {"bin_dir": pg_bin, "tls": tls, "synchronous_commit": False,
                                       "replication": {"password": "replication-secret"},
                 "failover": {"password": "failover-secret"},
                                       "roles": roles,
                                       "databases": [{"name": "appdb", "owner": "app"}]}},
           "spec": master_spec, "links": {"pgpool": pgpool_link}}, open(f"{work}/pg-master.json", "w"))
for i, address in enumerate(pools):
    # The network as the director renders a manual network: the VIP must lie in its subnet.
    spec = {"ip": address, "name": "pgpool", "index": i, "id": f"pgpool-{i}", "deployment": "jobs-test",
            "networks": {"service": {"ip": address, "netmask": "255.255.0.0", "default": ["dns", "gateway"]}}}
    json.dump({"properties": isolation, "spec": spec, "links": links}, open(f"{work}/isolation-pool{i}.json", "w"))
    json.dump({"properties": {"pgpool": {"bin_dir": "/usr/sbin", "postgres_dir": "/usr/lib/postgresql/15",
                                         "tls": tls, "pcp": {"password": "pcp-secret"},
                                         "watchdog": {"authkey": "watchdog-key-of-the-test"},
                                         "clients": {"cidrs": [app + "/32"]}, "vip": vip,
                                         "health_check": {"period": 2}}},
               "spec": spec, "links": links}, open(f"{work}/pgpool{i}.json", "w"))
PY

jt_log "pg-master: render, pre-start, monit start"
vm_render_job master isolation "$work/isolation-master.json"
vm_render_job master pg-master "$work/pg-master.json"
vm_run master /var/vcap/jobs/isolation/bin/pre-start >/dev/null || jt_fail "isolation pre-start on the master failed"
output="$(vm_run master /var/vcap/jobs/pg-master/bin/pre-start 2>&1)" || jt_fail "pg-master pre-start failed: $output"
jt_monit_start master isolation isolation
jt_wait_file master /var/vcap/sys/run/isolation/isolation.pid "the master's isolation guard"
jt_monit_start master pg-master postgres
jt_wait_file master /var/vcap/sys/run/pg-master/postgres.pid "postgres' pid file"

# vip_holders: the pgpool VMs that hold the VIP on eth0.
vip_holders() {
  local n
  for n in 0 1 2; do
    vm_run "pool$n" ip -4 -o addr show dev eth0 | grep -q " $vip/32 " && echo "pool$n"
  done
  return 0
}
# wait_single_holder: until exactly one VM holds the VIP (bounded, 120 s); prints it.
wait_single_holder() {
  local holders
  for _ in $(seq 600); do
    holders="$(vip_holders)"
    if [ "$(wc -w <<<"$holders")" = 1 ]; then
      echo "$holders"
      return 0
    fi
    sleep 0.2
  done
  jt_fail "not exactly one VIP holder within 120 s: '${holders//$'\n'/ }'"
}
psql_via_vip() {  # PASSWORD QUERY
  cp "$work/tls/ca.crt" "$(vm_dir app)/vcap/data/ca.crt" 2>/dev/null || {
    mkdir -p "$(vm_dir app)/vcap/data" && cp "$work/tls/ca.crt" "$(vm_dir app)/vcap/data/ca.crt"
  }
  PGPASSWORD="$1" PGCONNECT_TIMEOUT=3 timeout 30 nsenter --target "${VM_HOLDER[app]}" --mount --net -- \
    "$pg_bin/psql" -X -At \
    "host=$vip port=9999 dbname=appdb user=app sslmode=verify-full sslrootcert=/var/vcap/data/ca.crt" \
    -c "$2" 2>&1
}
# login_via_vip WHEN: an application's TLS + scram login through the VIP, retried (bounded,
# 30 s) while pgpool takes over the address.
login_via_vip() {
  local result
  for _ in $(seq 150); do
    result="$(psql_via_vip app-secret "SELECT current_user")" && break
    sleep 0.2
  done
  [ "$result" = app ] || jt_fail "no login through the VIP$1: $result"
}
# start_pool N: monit's order on a pgpool VM: the isolation guard, the VIP broker, pgpool.
start_pool() {
  local vm="pool$1"
  jt_monit_start "$vm" isolation isolation
  jt_wait_file "$vm" /var/vcap/sys/run/isolation/isolation.pid "$vm's isolation guard"
  jt_monit_start "$vm" pgpool pgpool-vip
  jt_wait_file "$vm" /var/vcap/sys/run/pgpool-vip/broker.pid "$vm's VIP broker"
  jt_monit_start "$vm" pgpool pgpool
  jt_wait_file "$vm" /var/vcap/sys/run/pgpool/pgpool.pid "$vm's pgpool"
}

jt_log "three pgpool VMs: render, pre-start (the broker's account and files), monit start in order"
for n in 0 1 2; do
  vm_render_job "pool$n" isolation "$work/isolation-pool$n.json"
  vm_render_job "pool$n" pgpool "$work/pgpool$n.json"
  vm_run "pool$n" /var/vcap/jobs/isolation/bin/pre-start >/dev/null || jt_fail "isolation pre-start on pool$n failed"
  output="$(vm_run "pool$n" /var/vcap/jobs/pgpool/bin/pre-start 2>&1)" || jt_fail "pgpool pre-start on pool$n failed: $output"
  grep -qxF "wrote /var/vcap/data/pgpool/config/vip.conf" <<<"$output" || jt_fail "pool$n's pre-start wrote no broker configuration:
$output"
done
# Node 0 first: nodes started at the same instant on a loaded machine can keep refusing each
# other's stand for leader for a long time.
start_pool 0
sleep 3
start_pool 1
start_pool 2

jt_log "exactly one VM holds the VIP; an application logs in through it with TLS + scram"
holder="$(wait_single_holder)"
jt_log "the VIP is on $holder"
login_via_vip ""
result="$(psql_via_vip wrong "SELECT 1")" && jt_fail "a wrong password logged in through the VIP"

jt_log "the broker holds exactly CAP_NET_ADMIN + CAP_NET_RAW as its own account; pgpool holds nothing"
for n in 0 1 2; do
  broker="$(cat "$(vm_dir "pool$n")/vcap/sys/run/pgpool-vip/broker.pid")"
  broker_uid="$(vm_run "pool$n" id -u pgpool-vip)"
  pgpool_uid="$(vm_run "pool$n" id -u pgpool)"
  [ "$broker_uid" != "$pgpool_uid" ] || jt_fail "the broker shares pgpool's account"
  [ "$(cat "/proc/$broker/comm")" = pgguard-vip ] || jt_fail "pool$n's broker pid file names $(cat "/proc/$broker/comm")"
  [ "$(jt_proc_field "$broker" Uid | awk '{print $1}')" = "$broker_uid" ] || jt_fail "pool$n's broker runs as $(jt_proc_field "$broker" Uid)"
  for field in CapEff CapPrm CapAmb CapBnd; do
    [ "$(jt_proc_field "$broker" "$field")" = 0000000000003000 ] ||
      jt_fail "pool$n's broker $field is $(jt_proc_field "$broker" "$field"), expected net_admin + net_raw only"
  done
  [ "$(jt_proc_field "$broker" NoNewPrivs)" = 1 ] || jt_fail "pool$n's broker has no no_new_privs"
  [ "$(jt_proc_field "$broker" Seccomp)" = 2 ] || jt_fail "pool$n's broker has no seccomp filter"
  main="$(cat "$(vm_dir "pool$n")/vcap/sys/run/pgpool/pgpool.pid")"
  jt_expect_sandboxed "pool$n's pgpool" "$main" "$pgpool_uid"
  for child in $(pgrep -P "$main"); do
    jt_expect_sandboxed "pool$n's pgpool child $child" "$child" "$pgpool_uid"
  done
done
grep -q "up $vip\": ok" "$(vm_dir "$holder")/vcap/sys/log/pgpool/vip-broker.log" ||
  jt_fail "the holder's broker log does not show pgpool's up request"

jt_log "the security-smoke-tests errand passes on every pgpool VM (pgpool, its children, the broker, listeners)"
echo '{"properties": {}, "spec": {"name": "pgpool", "index": 0}, "links": {}}' >"$work/errand.json"
for n in 0 1 2; do
  vm_render_job "pool$n" security-smoke-tests "$work/errand.json"
  output="$(vm_run "pool$n" /var/vcap/jobs/security-smoke-tests/bin/run 2>&1)" ||
    jt_fail "the errand failed on pool$n:
$output"
  grep -q "pgpool/vip-broker pid" <<<"$output" || jt_fail "the errand did not check pool$n's VIP broker:
$output"
done

jt_log "the holder's pgpool stops: another node takes the VIP over, the application logs in again"
n="${holder#pool}"
output="$(jt_monit_stop "$holder" pgpool pgpool 2>&1)" || jt_fail "stopping $holder's pgpool failed: $output"
for _ in $(seq 600); do
  holders="$(vip_holders)"
  [ "$(wc -w <<<"$holders")" = 1 ] && [ "$holders" != "$holder" ] && break
  sleep 0.2
done
[ "$(wc -w <<<"$holders")" = 1 ] && [ "$holders" != "$holder" ] ||
  jt_fail "the VIP did not move from $holder to one other node within 120 s: '${holders//$'\n'/ }'"
jt_log "the VIP moved to $holders"
login_via_vip " after it moved"
output="$(jt_monit_stop "$holder" pgpool pgpool-vip 2>&1)" || jt_fail "stopping $holder's broker failed: $output"
[ -e "$(vm_dir "$holder")/vcap/sys/run/pgpool-vip/broker.pid" ] && jt_fail "the broker's stop left its pid file"

jt_log "ok"
