#!/usr/bin/env bash
# Re-apply under load: while an allowed member (instance A's standby) and a forbidden host
# (instance B's pgpool) hammer instance A's master with thousands of TCP connects, the master's
# config is re-applied again and again with a changed member list, cycling through three:
# pgpool2 dropped (refill: same set sizes), back (refill), and grown by 40 members that exist
# nowhere (the member sets' declared size grows from 16 to 64, so the table is replaced, and
# replaced again on the way back). Both kinds of transaction must let zero forbidden
# connections through, fail none of the allowed ones, and keep an established connection of
# an allowed peer working throughout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/lib/topology.sh"
source "$here/lib/isolation.sh"

require_nftables
require_command "$PGT_PYTHON"
pgt_find_isolate

ALLOWED_ATTEMPTS="${PGT_ALLOWED_ATTEMPTS:-6000}"
FORBIDDEN_ATTEMPTS="${PGT_FORBIDDEN_ATTEMPTS:-8000}"
MIN_REAPPLIES=10

topology_trap
topology_create
topology_start_listeners
pgt_apply_all

master="$(pgt_vm a master)"
master4="$(pgt_addr4 a master)"
full="$(pgt_config_path a master)"
reduced="$PGT_WORK/$master.reduced.conf"
pgt_render_config a master master standby pgpool0 pgpool1 >"$reduced"
grown="$PGT_WORK/$master.grown.conf"
# Unused addresses of instance A's service network, inserted before the first section header
# (member is a top-level key): more members, nobody behind them.
awk '/^\[clients\]/ && !done { for (i = 100; i < 140; i++) printf "member = standby 198.18.250.%d\n", i; done = 1 } { print }' \
  "$full" >"$grown"
forbidden_ns="$(pgt_vm b pgpool0)"
forbidden4="$(pgt_addr4 b pgpool0)"
# The forbidden host is compromised: its own output chain, which would drop these connects
# before they reach the master, is gone. Only the master's rules stand in the way.
output="$(ip netns exec "$forbidden_ns" "$PGT_ISOLATE" remove --table "$PGT_TABLE" 2>&1)" ||
  pgt_fail "remove in $forbidden_ns failed: $output"

probe_from() {
  echo "tcp $master4 5432" | ip netns exec "$1" "$PGT_PYTHON" "$PGT_NETPROBE" probe --timeout 2 |
    awk '{print $NF}'
}

# The member list change has an effect: pgpool2 is cut off by the reduced list, back after.
pgt_isolate "$master" apply "$reduced" >/dev/null
[ "$(probe_from "$(pgt_vm a pgpool2)")" = closed ] || pgt_fail "pgpool2 still reaches the master after it left the member list"
pgt_isolate "$master" apply "$full" >/dev/null
[ "$(probe_from "$(pgt_vm a pgpool2)")" = open ] || pgt_fail "pgpool2 does not reach the master after it rejoined the member list"

# An established connection of an allowed peer (pgpool1 -> master:5432), exchanging data.
hold_dir="$PGT_WORK/hold"
mkdir -p "$hold_dir"
mkfifo "$hold_dir/in"
ip netns exec "$(pgt_vm a pgpool1)" "$PGT_PYTHON" "$PGT_NETPROBE" hold --target "$master4" 5432 \
  --fifo "$hold_dir" &
hold_pid=$!
PGT_PIDS+=($hold_pid)
pgt_wait_line "$hold_dir/out" "^connected" "the held connection"
pgt_hold_send "$hold_dir" before-reapply

# Forbidden connects time out (dropped), so they run wide and with a short timeout: about
# 1,000 SYNs a second, evenly spread.
ip netns exec "$(pgt_vm a standby)" "$PGT_PYTHON" "$PGT_NETPROBE" storm --target "$master4" 5432 \
  --count "$ALLOWED_ATTEMPTS" --parallel 16 --timeout 3 --out "$PGT_WORK/storm-allowed" &
allowed_pid=$!
PGT_PIDS+=($allowed_pid)
ip netns exec "$forbidden_ns" "$PGT_PYTHON" "$PGT_NETPROBE" storm --target "$master4" 5432 \
  --count "$FORBIDDEN_ATTEMPTS" --parallel 400 --timeout 0.4 --out "$PGT_WORK/storm-forbidden" &
forbidden_pid=$!
PGT_PIDS+=($forbidden_pid)

reapplies=0
under_load=0
refills=0
replacements=0
configs=("$reduced" "$full" "$grown")
while kill -0 "$allowed_pid" 2>/dev/null || kill -0 "$forbidden_pid" 2>/dev/null; do
  config="${configs[$((reapplies % 3))]}"
  output="$(pgt_isolate "$master" apply "$config" 2>&1)" || pgt_fail "re-apply $reapplies failed: $output"
  case "$output" in
    *refilled*) refills=$((refills + 1)) ;;
    *replaced*) replacements=$((replacements + 1)) ;;
  esac
  reapplies=$((reapplies + 1))
  if kill -0 "$allowed_pid" 2>/dev/null && kill -0 "$forbidden_pid" 2>/dev/null; then
    under_load=$((under_load + 1))
  fi
  if [ $((reapplies % 5)) = 0 ]; then pgt_hold_send "$hold_dir" "during-reapply-$reapplies"; fi
done
wait "$allowed_pid" || pgt_fail "allowed storm failed"
wait "$forbidden_pid" || pgt_fail "forbidden storm failed"
pgt_isolate "$master" apply "$full" >/dev/null
pgt_hold_send "$hold_dir" after-reapply
pgt_hold_send "$hold_dir" quit
wait "$hold_pid" || true

read -r a_attempts a_accepted a_failed <"$PGT_WORK/storm-allowed"
read -r f_attempts f_accepted f_failed <"$PGT_WORK/storm-forbidden"
counts="$(pgt_listener_counts "$master")"
f_seen="$("$PGT_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["tcp"].get(sys.argv[1], 0))' "$forbidden4" <<<"$counts")"
exchanges="$(grep -c '^ok' "$hold_dir/out" || true)"
pgt_log "re-applies: $reapplies ($under_load with both storms running): $refills refills, $replacements table replacements"
pgt_log "allowed   (standby -> master:5432): attempts $a_attempts, accepted $a_accepted, failed $a_failed"
pgt_log "forbidden (B pgpool0 -> master:5432): attempts $f_attempts, accepted $f_accepted, failed $f_failed; listener saw $f_seen"
pgt_log "established connection pgpool1 -> master: $exchanges exchanges, last: $(tail -n1 "$hold_dir/out")"

[ "$under_load" -ge "$MIN_REAPPLIES" ] || pgt_fail "only $under_load re-applies ran under load (want >= $MIN_REAPPLIES)"
[ "$refills" -ge 3 ] && [ "$replacements" -ge 3 ] ||
  pgt_fail "both transaction kinds must run under load: $refills refills, $replacements replacements"
[ "$f_accepted" = 0 ] && [ "$f_seen" = 0 ] || pgt_fail "forbidden connections accepted during re-apply"
[ "$a_failed" = 0 ] && [ "$a_accepted" = "$a_attempts" ] || pgt_fail "$a_failed allowed connections failed during re-apply"
[[ "$(tail -n1 "$hold_dir/out")" == ok* ]] || pgt_fail "the established connection broke: $(tail -n1 "$hold_dir/out")"
[ "$exchanges" -ge 3 ] || pgt_fail "the established connection exchanged data only $exchanges times"
pgt_isolate "$master" verify "$full" >/dev/null || pgt_fail "verify reports drift after the last re-apply"
pgt_log "PASS"
