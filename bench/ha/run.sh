#!/usr/bin/env bash
# bench/ha/run.sh: how long a service instance of the local deployment is unavailable when its
# primary's VM or its VIP holder's VM is lost, with the shipped health-check and watchdog
# settings and with a faster tuned set (bench/ha/tuned.yml), and how many acknowledged commits
# were lost (0 with synchronous commit). Not a test: it prints a table and draws a plot.
#
#   sudo bench/ha/run.sh [--runs N] [--settings "shipped tuned"]
#
# Each run: a client writes through the VIP (one connection per INSERT, tests/acceptance/lib/
# writer.sh); after a few seconds of steady writes the VM is lost (`secure-postgres-local fail`:
# every process killed, link down). Measured: from the loss to the first write acknowledged
# after it ("outage"), then every acknowledged write is looked for on the primary. The VM is
# recreated and the instance is back to a synchronous pair with three pgpools before the next
# run. Needs root and a build (scripts/build); ~2 minutes per run and scenario on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs=5
settings="shipped tuned"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 ;;
    --settings) settings="${2:-}"; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (--runs N, --settings \"shipped tuned\")" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs takes a positive number, got '$runs'" >&2; exit 2; }
for setting in $settings; do
  case "$setting" in shipped | tuned) ;; *) echo "run.sh: unknown setting '$setting' (shipped, tuned)" >&2; exit 2 ;; esac
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (the local deployment)" >&2; exit 2; }
for tool in gnuplot ruby monit; do
  command -v "$tool" >/dev/null || { echo "run.sh: missing $tool (scripts/setup installs it)" >&2; exit 2; }
done
[ -x "$root/build/src/programs/postgres/pgguard-postgres" ] || { echo "run.sh: no build (scripts/build)" >&2; exit 2; }

out="$root/bench/results/ha-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
export SECURE_POSTGRES_LOCAL_PREFIX="pgb$$" SECURE_POSTGRES_LOCAL_INSTANCES=1
SECURE_POSTGRES_LOCAL_STATE="$(mktemp -d "/tmp/pgb$$.XXXXXX")"
export SECURE_POSTGRES_LOCAL_STATE
local_bosh="$root/local/bin/secure-postgres-local"
trap '"$local_bosh" delete >/dev/null 2>&1 || true; rm -rf "$SECURE_POSTGRES_LOCAL_STATE"' EXIT

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$out/run.log" >&2; }
# fail: the logs of every VM go into the results before the exit trap deletes the deployment,
# so that a failed run can be read afterwards.
fail() {
  log "FAIL: $*"
  local vm
  for vm in "$SECURE_POSTGRES_LOCAL_STATE"/vms/*/; do
    [ -d "$vm/vcap/sys/log" ] || continue
    mkdir -p "$out/logs/$(basename "$vm")"
    cp -r "$vm/vcap/sys/log/." "$out/logs/$(basename "$vm")/" 2>/dev/null || true
  done
  log "the VMs' logs: $out/logs"
  exit 1
}
on() { "$local_bosh" exec "$1" -- "${@:2}"; }
source "$root/tests/acceptance/lib/instance_a.sh"

# outage_since T0: seconds from T0 to the first write acknowledged after it. A write the
# client had sent just before the loss may still come back within a few milliseconds: acks
# within 0.3 s of T0 do not count as the service answering again.
outage_since() {
  awk -v t0="$1" '$2 > t0 + 0.3 { printf "%.1f\n", $2 - t0; exit }' "$ha_state/acked"
}

# back_to_a_synchronous_pair: the lost VM recreated and rejoined, three pgpools, both backends.
back_to_a_synchronous_pair() {
  "$local_bosh" recreate "$1" >>"$out/run.log" 2>&1 || fail "$1 did not come back"
  eventually 300 "synchronous replication back" synchronous_pair
  eventually 120 "both backends up in pgpool" both_backends_up
  eventually 60 "exactly one VIP holder" test "$(vip_holders_of_a | wc -l)" = 1
}

# lose SCENARIO SETTING RUN PICK: one measured loss of the VM that the function PICK names at
# that moment (the VIP may move while the writer starts), appended to data.tsv.
lose() {
  local scenario="$1" setting="$2" run="$3" pick="$4" vm t0 outage lost
  writer_start
  sleep 5
  vm="$("$pick")"
  [ "$(wc -w <<<"$vm")" = 1 ] || fail "$pick named '$vm', not one VM"
  t0="$(date +%s.%N)"
  "$local_bosh" fail "$vm" >/dev/null
  eventually 240 "writes through the VIP resume after $vm was lost" writes_resumed_since "$t0"
  outage="$(outage_since "$t0")"
  writer_stop
  lost="$(wc -l <"$ha_state/missing")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$setting" "$scenario" "$run" "$outage" "$lost" "$(acked_count)" >>"$out/data.tsv"
  log "  $setting $scenario run $run: $vm lost; writes resumed after $outage s; $lost of $(acked_count) acknowledged writes lost"
  back_to_a_synchronous_pair "$vm"
}
writes_resumed_since() { [ -n "$(outage_since "$1")" ]; }

printf 'setting\tscenario\trun\toutage_s\tlost\tacked\n' >"$out/data.tsv"
for setting in $settings; do
  ops=()
  [ "$setting" = tuned ] && ops=(-o "$root/bench/ha/tuned.yml")
  log "$setting: a fresh deployment of one instance"
  "$local_bosh" delete >/dev/null
  "$local_bosh" up "${ops[@]}" >>"$out/run.log" 2>&1 || fail "up failed ($out/run.log)"
  mkdir -p "$ha_state" # delete removed the state directory, with it the writer's files
  "$local_bosh" psql a -c "CREATE TABLE acked (n int PRIMARY KEY)" >/dev/null
  for run in $(seq "$runs"); do
    lose primary-lost "$setting" "$run" primary_of_a
    lose vip-holder-lost "$setting" "$run" vip_holders_of_a
  done
done
"$local_bosh" delete >/dev/null

python3 "$root/bench/ha/report.py" "$out/data.tsv" | tee "$out/report.md"
gnuplot -e "data='$out/data.tsv'; output='$out/outage.png'" "$root/bench/ha/outage.gp"
log "results: $out (report.md, data.tsv, outage.png, run.log)"
