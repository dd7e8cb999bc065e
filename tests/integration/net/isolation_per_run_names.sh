#!/usr/bin/env bash
# Two runs of the isolation tests' harness (lib/topology.sh) on one machine, as a developer's
# tests and a benchmark, or two checkouts, would run them (issue 18, item 8). Run A builds the
# whole test network, applies pgguard-isolate in a VM, proves its traffic and waits; run B, in
# a process of its own, then does the same from start to exit. A's namespaces must still be the
# very ones A made (same namespace inode), A's listener alive, its table in sync and its traffic
# as before; then A exits. Afterwards neither run leaves a namespace or an interface of the
# root namespace behind, and namespaces that belong to neither run, named the way the harness
# names its own, survive both runs untouched.
# Usage: isolation_per_run_names.sh   (the script runs itself with --run DIR for A and B)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/lib/topology.sh"
source "$here/lib/isolation.sh"

# run_names: this run's namespaces, the bridge's last.
run_names() {
  pgt_all_vms
  pgt_source_ns app
  pgt_source_ns ctl
  echo "$PGT_BR"
}
ns_inode() { stat -L -c %i "/run/netns/$1" 2>/dev/null; }

# probe <from-ns> <to-addr> <port>: open or closed.
probe() {
  echo "tcp $2 $3" | ip netns exec "$1" "$PGT_PYTHON" "$PGT_NETPROBE" probe --timeout 2 |
    awk '{print $NF}'
}

# One run: the network, a listener on the first pgpool of instance A, its table; then the
# checks, before the handshake and again after it.
run_one() {
  local dir="$1" target listener_pid config ns
  topology_trap
  topology_create
  target="$(pgt_vm a pgpool0)"
  rm -f "$PGT_WORK/listener.state"
  pgt_in "$target" "$PGT_PYTHON" "$PGT_NETPROBE" serve --tcp 9999 --udp 9694 \
    --state "$PGT_WORK/listener.state" &
  listener_pid=$!
  PGT_PIDS+=("$listener_pid")
  pgt_wait_line "$PGT_WORK/listener.state" . "the listener in $target"
  config="$(pgt_config_path a pgpool0)"
  pgt_render_config a pgpool0 >"$config"
  pgt_isolate "$target" apply "$config" >/dev/null || pgt_fail "apply in $target failed"
  checks() {  # WHEN
    [ "$(probe "$(pgt_source_ns app)" "$(pgt_addr4 a pgpool0)" 9999)" = open ] ||
      pgt_fail "$1: the app host does not reach $target:9999"
    [ "$(probe "$(pgt_vm b master)" "$(pgt_addr4 a pgpool0)" 9999)" = closed ] ||
      pgt_fail "$1: instance B reaches $target:9999: the table is not in force"
    pgt_isolate "$target" verify "$config" >/dev/null || pgt_fail "$1: verify in $target reports drift"
    kill -0 "$listener_pid" 2>/dev/null || pgt_fail "$1: the listener in $target is gone"
  }
  checks "before the other run"
  for ns in $(run_names); do
    echo "$ns $(ns_inode "$ns")"
  done >"$dir/namespaces"
  echo "$PGT_PREFIX" >"$dir/prefix"
  touch "$dir/ready"
  # Bounded: a parent that died must not leave this run waiting for ever.
  local tries=6000
  until [ -e "$dir/go" ]; do
    ((tries-- > 0)) || pgt_fail "no go from the parent within 600 s"
    sleep 0.1
  done
  local name inode
  while read -r name inode; do
    [ -n "$inode" ] || pgt_fail "namespace $name had no inode"
    [ "$(ns_inode "$name")" = "$inode" ] ||
      pgt_fail "namespace $name is not the one this run made (inode $inode, now '$(ns_inode "$name")')"
  done <"$dir/namespaces"
  checks "after the other run"
  pgt_log "run $PGT_PREFIX: namespaces, listener, table and traffic intact"
}

if [ "${1:-}" = --run ]; then
  require_nftables
  require_command "$PGT_PYTHON" stat
  pgt_find_isolate
  run_one "$2"
  exit 0
fi

require_nftables
require_command "$PGT_PYTHON" stat
pgt_find_isolate

work="$(mktemp -d /tmp/pgt-runs.XXXXXX)"
mkdir -p "$work/a" "$work/b"
# Foreign namespaces: one named like the harness's namespaces in general, one like those the
# harness once deleted at every start (pgt-a-*), each with a veth of its own inside.
foreign=("pgt-foreign-$$" "pgt-a-foreign$$")
created_foreign=()
run_pids=()
cleanup() {
  local pid ns
  for pid in "${run_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${run_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${created_foreign[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
for ns in "${foreign[@]}"; do
  ip netns add "$ns" || pgt_fail "cannot create the foreign namespace $ns"
  created_foreign+=("$ns")
  ip -n "$ns" link add pgt-f0 type veth peer name pgt-f1
done
foreign_inodes="$(for ns in "${foreign[@]}"; do echo "$ns $(ns_inode "$ns")"; done)"
root_links_before="$(ip -o link show | awk -F': ' '{print $2}' | sort)"

wait_ready() {  # DIR PID
  local tries=6000
  until [ -e "$1/ready" ]; do
    kill -0 "$2" 2>/dev/null || return 1
    ((tries-- > 0)) || return 1
    sleep 0.1
  done
}

bash "$0" --run "$work/a" >"$work/a.log" 2>&1 &
a_pid=$!
run_pids+=("$a_pid")
wait_ready "$work/a" "$a_pid" || { cat "$work/a.log" >&2; pgt_fail "run A did not get ready"; }
pgt_log "run A ($(cat "$work/a/prefix")) is up and waits"

# Run B from start to exit while A's network is up.
touch "$work/b/go"
set +e
bash "$0" --run "$work/b" >"$work/b.log" 2>&1
b_rc=$?
set -e
sed 's/^/  B | /' "$work/b.log"
[ "$b_rc" = 0 ] || pgt_fail "run B failed (exit $b_rc) next to run A"
[ "$(cat "$work/a/prefix")" != "$(cat "$work/b/prefix")" ] || pgt_fail "both runs used the prefix $(cat "$work/a/prefix")"

touch "$work/a/go"
set +e
wait "$a_pid"
a_rc=$?
set -e
run_pids=()
sed 's/^/  A | /' "$work/a.log"
[ "$a_rc" = 0 ] || pgt_fail "run A failed (exit $a_rc) after run B came and went"

# Nothing of either run is left; the foreign namespaces are the same ones, with their veths.
for run in a b; do
  while read -r name _; do
    [ ! -e "/run/netns/$name" ] || pgt_fail "run $run left its namespace $name behind"
  done <"$work/$run/namespaces"
done
[ "$foreign_inodes" = "$(for ns in "${foreign[@]}"; do echo "$ns $(ns_inode "$ns")"; done)" ] ||
  pgt_fail "a foreign namespace was deleted or replaced: was '$foreign_inodes'"
for ns in "${foreign[@]}"; do
  ip -n "$ns" link show pgt-f0 >/dev/null 2>&1 || pgt_fail "the veth in the foreign namespace $ns is gone"
done
# The runs' veths and bridges live in their own namespaces: none may appear in the root one
# (only names the harness uses count: other programs may add interfaces meanwhile).
root_links_after="$(ip -o link show | awk -F': ' '{print $2}' | sort)"
leaked="$(comm -13 <(echo "$root_links_before") <(echo "$root_links_after") |
  grep -E '^(a-|b-|app|ctl|br0|eth0|pgt)' || true)"
[ -z "$leaked" ] || pgt_fail "interfaces of the runs left in the root namespace: $leaked"
pgt_log "PASS: two runs side by side, each removed only its own; foreign namespaces ${foreign[*]} intact"
