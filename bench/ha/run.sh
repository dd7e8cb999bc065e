#!/usr/bin/env bash
# bench/ha/run.sh: how long a service instance of the local deployment is unavailable when its
# primary's VM or its VIP holder's VM is lost, with the shipped health-check and watchdog
# settings and with a faster tuned set (bench/ha/tuned.yml), and how many acknowledged commits
# were lost (0 with synchronous commit). Not a test: it prints a table and draws a plot.
#
#   bench/ha/run.sh [--runs N] [--settings "shipped tuned"] [--scenarios "primary-lost vip-holder-lost"]
#
# Each run: a client writes through the VIP (one connection per INSERT, tests/acceptance/lib/
# writer.sh) and a probe opens a TCP connection to the VIP every 0.1 s (bench/ha/vip_probe.sh);
# after a few seconds of steady writes the VM is lost (`secure-postgres-local fail`: every
# process killed, link down). Measured: from the loss to the first write acknowledged after it
# ("outage"), from the loss to the first connection the VIP accepts after it ("VIP answers",
# the VIP holder's scenario), then every acknowledged write is looked for on the primary. The
# VM is recreated and the instance is back to a synchronous pair with three pgpools before the
# next run. Needs root and a build (scripts/build); ~2 minutes per run and scenario on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs=5
settings="shipped tuned"
scenarios="primary-lost vip-holder-lost"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 ;;
    --settings) settings="${2:-}"; shift 2 ;;
    --scenarios) scenarios="${2:-}"; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (--runs N, --settings \"shipped tuned\", --scenarios \"primary-lost vip-holder-lost\")" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs takes a positive number, got '$runs'" >&2; exit 2; }
for setting in $settings; do
  case "$setting" in shipped | tuned) ;; *) echo "run.sh: unknown setting '$setting' (shipped, tuned)" >&2; exit 2 ;; esac
done
for scenario in $scenarios; do
  case "$scenario" in primary-lost | vip-holder-lost) ;; *) echo "run.sh: unknown scenario '$scenario' (primary-lost, vip-holder-lost)" >&2; exit 2 ;; esac
done
[ -n "$settings" ] && [ -n "$scenarios" ] || { echo "run.sh: --settings and --scenarios need at least one name each" >&2; exit 2; }
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

# outage_since T0 T1: seconds from T0 (just before the loss) to the first write acknowledged
# after T1 (when the fail command had returned: link down, every process killed). An answer in
# between may still come from the lost VM; the fail command's own start (~0.3 s) counts, so the
# figure errs long.
outage_since() {
  awk -v t0="$1" -v t1="$2" '$2 > t1 { printf "%.1f\n", $2 - t0; exit }' "$ha_state/acked"
}

# The probe of the VIP (vip_probe.sh) from instance A's application VM, beside the writer.
probe_start() {
  rm -f "$ha_state/answers" "$ha_state/probe-stop"
  "$local_bosh" exec app-a -- "$root/bench/ha/vip_probe.sh" 198.18.0.15 9999 "$ha_state/answers" \
    "$ha_state/probe-stop" >"$ha_state/probe.log" 2>&1 &
  probe_pid=$!
  eventually 30 "the VIP's first answer to the probe" test -s "$ha_state/answers"
}
probe_stop() {
  touch "$ha_state/probe-stop"
  wait "$probe_pid" || true
}
# vip_answer_since T0 T1: seconds from T0 to the first connection the VIP accepted after T1 (as
# outage_since).
vip_answer_since() {
  awk -v t0="$1" -v t1="$2" '$1 > t1 { printf "%.1f\n", $1 - t0; exit }' "$ha_state/answers"
}

# one_vip_holder: a function, so that `eventually` asks again on every try (its arguments are
# expanded once).
one_vip_holder() { [ "$(vip_holders_of_a | wc -l)" = 1 ]; }

# back_to_a_synchronous_pair: the lost VM recreated and rejoined, three pgpools, both backends.
back_to_a_synchronous_pair() {
  "$local_bosh" recreate "$1" >>"$out/run.log" 2>&1 || fail "$1 did not come back"
  eventually 300 "synchronous replication back" synchronous_pair
  eventually 120 "both backends up in pgpool" both_backends_up
  eventually 60 "exactly one VIP holder" one_vip_holder
}

# lose SCENARIO SETTING RUN PICK: one measured loss of the VM that the function PICK names at
# that moment (the VIP may move while the writer starts), appended to data.tsv.
lose() {
  local scenario="$1" setting="$2" run="$3" pick="$4" vm t0 t1 outage answer=- lost
  writer_start
  probe_start
  sleep 5
  vm="$("$pick")"
  [ "$(wc -w <<<"$vm")" = 1 ] || fail "$pick named '$vm', not one VM"
  t0="$(date +%s.%N)"
  "$local_bosh" fail "$vm" >/dev/null
  t1="$(date +%s.%N)"
  eventually 240 "writes through the VIP resume after $vm was lost" writes_resumed_since "$t0" "$t1"
  outage="$(outage_since "$t0" "$t1")"
  if [ "$scenario" = vip-holder-lost ]; then
    eventually 60 "the VIP answers after $vm was lost" vip_answered_since "$t0" "$t1"
    answer="$(vip_answer_since "$t0" "$t1")"
    keep_watchdog_lines "$setting-$scenario-$run"
  fi
  probe_stop
  writer_stop
  lost="$(wc -l <"$ha_state/missing")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$setting" "$scenario" "$run" "$outage" "$answer" "$lost" "$(acked_count)" >>"$out/data.tsv"
  log "  $setting $scenario run $run: $vm lost; VIP answered after $answer s; writes resumed after $outage s; $lost of $(acked_count) acknowledged writes lost"
  back_to_a_synchronous_pair "$vm"
}
writes_resumed_since() { [ -n "$(outage_since "$1" "$2")" ]; }
vip_answered_since() { [ -n "$(vip_answer_since "$1" "$2")" ]; }

# keep_watchdog_lines NAME: what each pgpool's watchdog did (state changes, lost nodes, the
# election, the escalation), with pgpool's millisecond timestamps, into logs/NAME: the spread of
# the VIP move is read there.
keep_watchdog_lines() {
  local vm log
  mkdir -p "$out/logs/$1"
  for vm in a-pgpool-0 a-pgpool-1 a-pgpool-2; do
    log="$SECURE_POSTGRES_LOCAL_STATE/vms/$vm/vcap/sys/log/pgpool/pgguard-pgpool.log"
    [ -e "$log" ] || continue
    grep -E 'state changed|is lost|lost the|leader|coordinator|escalation|election|stand for|if_up_cmd|quorum|rejected' \
      "$log" | tail -n 60 >"$out/logs/$1/$vm.watchdog" || true
  done
}

printf 'setting\tscenario\trun\toutage_s\tvip_answer_s\tlost\tacked\n' >"$out/data.tsv"
for setting in $settings; do
  ops=()
  [ "$setting" = tuned ] && ops=(-o "$root/bench/ha/tuned.yml")
  log "$setting: a fresh deployment of one instance"
  "$local_bosh" delete >/dev/null
  "$local_bosh" up "${ops[@]}" >>"$out/run.log" 2>&1 || fail "up failed ($out/run.log)"
  mkdir -p "$ha_state" # delete removed the state directory, with it the writer's files
  "$local_bosh" psql a -c "CREATE TABLE acked (n int PRIMARY KEY)" >/dev/null
  eventually 120 "both backends up in pgpool" both_backends_up
  eventually 60 "exactly one VIP holder" one_vip_holder
  for run in $(seq "$runs"); do
    for scenario in $scenarios; do
      case "$scenario" in
        primary-lost) lose primary-lost "$setting" "$run" primary_of_a ;;
        vip-holder-lost) lose vip-holder-lost "$setting" "$run" vip_holders_of_a ;;
      esac
    done
  done
done
"$local_bosh" delete >/dev/null

python3 "$root/bench/ha/report.py" "$out/data.tsv" | tee "$out/report.md"
gnuplot -e "data='$out/data.tsv'; output='$out/outage.png'" "$root/bench/ha/outage.gp"
log "results: $out (report.md, data.tsv, outage.png, run.log)"
