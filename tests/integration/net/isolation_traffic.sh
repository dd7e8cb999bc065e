#!/usr/bin/env bash
# Two service instances of five "VMs" each, an application host and a control-plane host, each
# in its own network namespace on one bridge. pgguard-isolate is applied in every VM; real TCP,
# UDP and ICMP traffic then proves the role port plan of docs/isolation.md, the cut between
# instances in both directions, anti-spoofing, the ICMP rules (redirect and timestamp dropped,
# PMTU and the other errors accepted), the echo rate limit, and that `verify` sees a rule (or a
# sysctl) changed by hand and is satisfied again after `apply`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/lib/topology.sh"
source "$here/lib/isolation.sh"

require_nftables
require_command ping "$PGT_PYTHON"
"$PGT_PYTHON" -c 'import scapy.all' 2>/dev/null || missing_prerequisite "python3-scapy"
pgt_find_isolate

topology_trap
topology_create
topology_start_listeners

all_open() { PGT_VERDICT=open; }

# 1. Without rules everything answers: the probes can see an open port, so "closed" later is
#    the firewall's doing, not a broken test network.
pgt_log "baseline without rules"
pgt_run_matrix baseline ports all_open || pgt_fail "test network broken: not every port answers without rules"
pgt_run_matrix baseline-icmp4 icmp4 all_open || pgt_fail "test network broken: IPv4 echo"
pgt_run_matrix baseline-icmp6 icmp6 all_open || pgt_fail "test network broken: IPv6 echo"

# 2. Apply everywhere; a second apply of the same config must change nothing (same handles).
pgt_log "apply in all 10 VMs"
pgt_apply_all
master="$(pgt_vm a master)"
before="$(ip netns exec "$master" nft -a list table inet "$PGT_TABLE")"
pgt_isolate "$master" apply "$(pgt_config_path a master)" >/dev/null
after="$(ip netns exec "$master" nft -a list table inet "$PGT_TABLE")"
[ "$before" = "$after" ] || pgt_fail "re-applying an unchanged config rebuilt the table: $(diff <(echo "$before") <(echo "$after") | head -20)"
for ns in $(pgt_all_vms); do
  config="$PGT_WORK/$ns.conf"
  ip netns exec "$ns" "$PGT_ISOLATE" verify --config "$config" >/dev/null ||
    pgt_fail "verify right after apply reports drift in $ns"
done

# 3. The role port plan, both families; ICMP one family at a time, the limit's bucket refilled in
#    between, so no single echo probe meets an exhausted burst (20).
failed=0
pgt_run_matrix ports ports || failed=1
pgt_run_matrix icmp4 icmp4 || failed=1
sleep 2.5 # let the echo limit's bucket refill (10/s): not a timing assertion
pgt_run_matrix icmp6 icmp6 || failed=1
[ $failed = 0 ] || pgt_fail "probe matrix differs from the role port plan"

# 4. A compromised VM: instance B drops its rules (as if root on it flushed them). Instance A
#    alone must still keep B out (A's input) and never reach B (A's output), both families.
pgt_log "instance B without rules: instance A's rules alone must cut both directions"
pgt_remove_instance b
b_unprotected() {
  local src="$1" dst_instance="$2"
  if [ "$dst_instance" = b ]; then
    if [[ "$src" == a:* ]]; then PGT_VERDICT=closed; else PGT_VERDICT=open; fi
  else
    pgt_expect "$@"
  fi
}
sleep 2.5
pgt_run_matrix compromised-ports ports b_unprotected || failed=1
pgt_run_matrix compromised-icmp4 icmp4 b_unprotected || failed=1
[ $failed = 0 ] || pgt_fail "instance A reaches or is reached by an instance without rules"
pgt_apply_instance b

# 5. Forged sources, sent on the link from the app host to a pgpool VM's client port (which the
#    app network may reach): an unrouted source inside the clients CIDR, the VM's own address,
#    and loopback. The observer chains, hooked after the program's, must count none of them;
#    the same SYN with the app host's real address is the control that they do count.
target="$(pgt_vm a pgpool1)"
target_mac="$(ip -n "$target" -br link show eth0 | awk '{print $3}')"
pgt_observe_setup "$target"
spoof() {
  ip netns exec "$PGT_APP_NS" "$PGT_PYTHON" "$PGT_NETPROBE" spoof "$@" --mac "$target_mac"
}
check_spoof() {
  local family="$1" src="$2" dst="$3" want="$4" what="$5"
  pgt_observe_reset "$target"
  pgt_observe_rule "$target" pre "$family" saddr "$src" tcp dport 9999 "tcp flags & (syn | ack) == syn"
  pgt_observe_rule "$target" in "$family" saddr "$src" tcp dport 9999 "tcp flags & (syn | ack) == syn"
  spoof syn --src "$src" --dst "$dst" --port 9999 --count 5
  local pre in
  pre="$(pgt_observed "$target" pre)"
  in="$(pgt_observed "$target" in)"
  pgt_log "spoof $what ($src -> $dst:9999): 5 sent, past prerouting $pre, reached input $in"
  if [ "$want" = dropped ]; then
    [ "$pre" = 0 ] && [ "$in" = 0 ] || pgt_fail "forged source $what ($src) not dropped"
  else
    [ "$pre" = 5 ] && [ "$in" = 5 ] || pgt_fail "control SYN from $src not seen by the observer"
  fi
}
a4="$(pgt_addr4 a pgpool1)"
a6="$(pgt_addr6 a pgpool1)"
check_spoof ip "$PGT_APP4" "$a4" accepted "control (real app address)"
check_spoof ip6 "$PGT_APP6" "$a6" accepted "control (real app address)"
check_spoof ip "$PGT_UNROUTED_CLIENT4" "$a4" dropped "unrouted client address"
check_spoof ip6 "$PGT_UNROUTED_CLIENT6" "$a6" dropped "unrouted client address"
check_spoof ip "$a4" "$a4" dropped "the VM's own address"
check_spoof ip6 "$a6" "$a6" dropped "the VM's own address"
check_spoof ip 127.0.0.1 "$a4" dropped "loopback"
check_spoof ip6 ::1 "$a6" dropped "loopback"

# 6. ICMP redirect (quoting a live connection, so conntrack calls it "related") and timestamp
#    requests from a peer must be dropped; neither may reach the input hook after the program's.
hold_dir="$PGT_WORK/hold-redirect"
mkdir -p "$hold_dir"
mkfifo "$hold_dir/in"
ip netns exec "$PGT_APP_NS" "$PGT_PYTHON" "$PGT_NETPROBE" hold --target "$a4" 9999 --fifo "$hold_dir" &
hold_pid=$!
PGT_PIDS+=($hold_pid)
pgt_wait_line "$hold_dir/out" "^connected" "the held connection"
app_port="$(awk '/^connected/ {print $2}' "$hold_dir/out")"
pgt_hold_send "$hold_dir" hello
pgt_observe_reset "$target"
pgt_observe_rule "$target" in icmp type redirect
pgt_observe_rule "$target" in icmpv6 type nd-redirect
pgt_observe_rule "$target" in icmp type timestamp-request
spoof redirect --src "$PGT_APP4" --dst "$a4" --gateway "$PGT_APP4" --quote-src "$a4" \
  --quote-dst "$PGT_APP4" --quote-sport 9999 --quote-dport "$app_port" --count 5
spoof redirect --src "$(ip -n "$PGT_APP_NS" -6 -br addr show dev eth0 scope link | awk '{print $3}' | cut -d/ -f1)" \
  --dst "$a6" --gateway "$PGT_APP6" --quote-dst "$PGT_APP6" --count 5
replies="$(spoof timestamp --src "$PGT_APP4" --dst "$a4" --count 5 --timeout 2 | awk '{print $2}')"
seen="$(pgt_observed "$target" in)"
pgt_log "ICMP redirect (v4 related, v6) and timestamp: 15 sent, reached input $seen, timestamp replies $replies"
[ "$seen" = 0 ] || pgt_fail "$seen ICMP redirect/timestamp packets passed the program's input chain"
[ "$replies" = 0 ] || pgt_fail "the VM answered $replies ICMP timestamp requests"
# The ICMP errors a working network needs must get through: fragmentation needed (PMTU) /
# packet too big, time exceeded, parameter problem; quoting the live connection (conntrack:
# related) and quoting none (no conntrack help: only the program's explicit rules let them in).
pgt_observe_reset "$target"
pgt_observe_rule "$target" in "icmp type { destination-unreachable, time-exceeded, parameter-problem }"
pgt_observe_rule "$target" in "icmpv6 type { packet-too-big, time-exceeded, parameter-problem }"
spoof icmp-errors --src "$PGT_APP4" --dst "$a4" --quote-src "$a4" --quote-dst "$PGT_APP4" \
  --quote-sport 9999 --quote-dport "$app_port" --count 2
spoof icmp-errors --src "$PGT_APP4" --dst "$a4" --quote-src "$a4" --quote-dst "$PGT_APP4" \
  --quote-sport 9999 --quote-dport 40404 --count 2
spoof icmp-errors --src "$PGT_APP6" --dst "$a6" --quote-src "$a6" --quote-dst "$PGT_APP6" \
  --quote-sport 9999 --quote-dport 40404 --count 2
seen="$(pgt_observed "$target" in)"
pgt_log "ICMP errors (frag-needed/packet-too-big, time-exceeded, parameter-problem): 18 sent, reached input $seen"
[ "$seen" = 18 ] || pgt_fail "only $seen of 18 ICMP error messages passed the program's input chain"
pgt_hold_send "$hold_dir" world
pgt_hold_send "$hold_dir" quit
wait "$hold_pid" || true
grep -q '^ok 2$' "$hold_dir/out" || pgt_fail "the app connection used for the redirect test broke: $(cat "$hold_dir/out")"

# 7. Echo rate limit: a flood from a peer gets some replies, but fewer than it sent.
sleep 2.5
for dst in "$a4" "$a6"; do
  summary="$(ip netns exec "$PGT_APP_NS" ping -n -q -f -l 20 -c 300 -W 1 "$dst" | grep 'packets transmitted' || true)"
  sent="$(echo "$summary" | awk '{print $1}')"
  received="$(echo "$summary" | awk '{print $4}')"
  pgt_log "echo flood to $dst: sent $sent, replies $received"
  [ -n "$sent" ] && [ "$received" -gt 0 ] || pgt_fail "no echo reply at all to $dst: $summary"
  [ "$received" -lt "$sent" ] || pgt_fail "echo requests to $dst not rate-limited: $summary"
  sleep 2.5
done

# 8. Drift: delete the postgres rule on the master by hand; verify must report it (exit 1, a
#    diff), the port must be closed meanwhile (default deny), and apply must repair it.
config="$(pgt_config_path a master)"
handle="$(ip netns exec "$master" nft -a list chain inet "$PGT_TABLE" input |
  awk '/dport 5432/ && !found {found = $NF} END {print found}')"
[ -n "$handle" ] || pgt_fail "no rule for port 5432 in the master's input chain"
ip netns exec "$master" nft delete rule inet "$PGT_TABLE" input handle "$handle"
set +e
diff_output="$(pgt_isolate "$master" verify "$config" 2>&1)"
rc=$?
set -e
pgt_log "verify after deleting rule $handle: exit $rc"
sed -n '1,20s/^/  | /p' <<<"$diff_output"
[ $rc = 1 ] || pgt_fail "verify exit $rc after a rule was deleted, want 1"
[ -n "$diff_output" ] || pgt_fail "verify printed no diff"
standby_probe() {
  echo "tcp $(pgt_addr4 a master) 5432" |
    ip netns exec "$(pgt_vm a standby)" "$PGT_PYTHON" "$PGT_NETPROBE" probe --timeout 2 | awk '{print $NF}'
}
[ "$(standby_probe)" = closed ] || pgt_fail "port 5432 open with its rule deleted: the input chain does not default to drop"
pgt_isolate "$master" apply "$config" >/dev/null || pgt_fail "re-apply after drift failed"
pgt_isolate "$master" verify "$config" >/dev/null || pgt_fail "verify still reports drift after re-apply"
[ "$(standby_probe)" = open ] || pgt_fail "standby cannot reach the master after re-apply"

# A hardening sysctl changed by hand is drift too.
ip netns exec "$master" sysctl -qw net.ipv4.conf.eth0.rp_filter=0
set +e
pgt_isolate "$master" verify "$config" >/dev/null 2>&1
rc=$?
set -e
[ $rc = 1 ] || pgt_fail "verify exit $rc after rp_filter was turned off, want 1"
pgt_isolate "$master" apply "$config" >/dev/null
pgt_isolate "$master" verify "$config" >/dev/null || pgt_fail "verify reports drift after sysctl repair"
[ "$(ip netns exec "$master" sysctl -n net.ipv4.conf.eth0.rp_filter)" = 1 ] ||
  pgt_fail "apply did not restore rp_filter"

pgt_log "PASS"
