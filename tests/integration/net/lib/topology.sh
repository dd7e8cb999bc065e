# Sourced by the isolation tests: a test network of namespaces on one bridge.
#
# Every name carries the run's own prefix, $PGT_PREFIX (default pgt<PID of the test>, at most 10
# characters), so two runs on one machine (two checkouts, a test and a benchmark) never touch
# each other's namespaces; each run deletes exactly the namespaces it created, and nothing else
# named pgt-*. The veths and the bridge live inside the run's namespaces, so
# their names (at most 15 characters: eth0, br0, a-pgpool0) need no prefix and go with them.
#
#   PREFIX-br      the bridge (its own namespace, so nothing touches the root namespace)
#   PREFIX-a-master, PREFIX-a-standby, PREFIX-a-pgpool0..2   service instance A ("VMs")
#   PREFIX-b-master, ...                                     service instance B
#   PREFIX-app     an application host, PREFIX-ctl a control-plane host
#
# Addresses (IPv4 from 198.18.0.0/15, IPv6 from the documentation prefix 2001:db8::/32):
#   instance A    198.18.1.11-15   2001:db8:1:1::11-15   VIP 198.18.1.20 / 2001:db8:1:1::20
#   instance B    198.18.2.11-15   2001:db8:1:2::11-15   VIP 198.18.2.20 / 2001:db8:1:2::20
#   service net   198.18.0.0/16    2001:db8:1::/48
#   app host      198.19.1.10      2001:db8:2:1::10     clients CIDR 198.19.0.0/17, 2001:db8:2::/52
#   control host  198.19.128.10    2001:db8:2:8000::10  control CIDR 198.19.128.0/24, 2001:db8:2:8000::/64
# The VMs route only the app and control /24 (/64) back through their link, so a forged source
# from the rest of the clients CIDR (198.19.77.7) has no reverse route: the fib check must drop it.
#
# Every test that sources this file calls topology_trap first: on any exit topology_cleanup kills
# the processes the test started and deletes the namespaces this run created (pgt_netns_add),
# also when it fails half way. A run killed with SIGKILL cannot clean up: its namespaces stay,
# named after its PID, until removed by hand (ip netns del PREFIX-...); no later run guesses.

PGT_PREFIX="${PGT_PREFIX:-pgt$$}"
[[ "$PGT_PREFIX" =~ ^[a-z][a-z0-9]{0,9}$ ]] || {
  echo "FAIL: PGT_PREFIX '$PGT_PREFIX': 1 to 10 lower-case letters and digits, a letter first" >&2
  exit 1
}
PGT_BR="$PGT_PREFIX-br"
PGT_APP_NS="$PGT_PREFIX-app"
PGT_CTL_NS="$PGT_PREFIX-ctl"
PGT_NAMESPACES=()

PGT_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PGT_PYTHON=/usr/bin/python3
PGT_NETPROBE="$PGT_LIB_DIR/netprobe.py"

PGT_INSTANCES=(a b)
PGT_ROLES=(master standby pgpool0 pgpool1 pgpool2)
declare -A PGT_HOST_INDEX=([master]=11 [standby]=12 [pgpool0]=13 [pgpool1]=14 [pgpool2]=15)
declare -A PGT_INSTANCE_NET=([a]=1 [b]=2)

PGT_SERVICE_NET4=198.18.0.0/16
PGT_SERVICE_NET6=2001:db8:1::/48
PGT_APP4=198.19.1.10
PGT_APP6=2001:db8:2:1::10
PGT_CLIENTS_NET4=198.19.0.0/17
PGT_CLIENTS_NET6=2001:db8:2::/52
PGT_CTL4=198.19.128.10
PGT_CTL6=2001:db8:2:8000::10
PGT_CONTROL_NET4=198.19.128.0/24
PGT_CONTROL_NET6=2001:db8:2:8000::/64
# Inside the clients CIDR but not routed back through any VM's link.
PGT_UNROUTED_CLIENT4=198.19.77.7
PGT_UNROUTED_CLIENT6=2001:db8:2:77::7

# Ports every VM listens on, whatever its role: the probes then tell the firewall's verdict
# apart from a missing service.
PGT_TCP_PORTS=(5432 9999 9898 9000 22)
PGT_UDP_PORTS=(9694)

PGT_WORK="${PGT_WORK:-}"
PGT_PIDS=()

pgt_log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
pgt_fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# pgt_ns <name>: the run's namespace called <name>; pgt_vm <instance> <role>: a VM's.
pgt_ns() { echo "$PGT_PREFIX-$1"; }
pgt_vm() { echo "$PGT_PREFIX-$1-$2"; }

# pgt_netns_add <namespace>: creates it and records it as this run's, for topology_cleanup.
# A name that exists already is another run's (or the host's): the test fails, never adopts it.
pgt_netns_add() {
  ip netns add "$1" || pgt_fail "cannot create network namespace $1 (exists already?)"
  PGT_NAMESPACES+=("$1")
}
pgt_addr4() { echo "198.18.${PGT_INSTANCE_NET[$1]}.${PGT_HOST_INDEX[$2]}"; }
pgt_addr6() { echo "2001:db8:1:${PGT_INSTANCE_NET[$1]}::${PGT_HOST_INDEX[$2]}"; }
pgt_vip4() { echo "198.18.${PGT_INSTANCE_NET[$1]}.20"; }
pgt_vip6() { echo "2001:db8:1:${PGT_INSTANCE_NET[$1]}::20"; }

# The namespaces of the ten VMs.
pgt_all_vms() {
  local instance role
  for instance in "${PGT_INSTANCES[@]}"; do
    for role in "${PGT_ROLES[@]}"; do pgt_vm "$instance" "$role"; done
  done
}

pgt_in() {
  local ns="$1"
  shift
  ip netns exec "$ns" "$@"
}

# topology_trap: cleanup on any exit, including an interrupt or a kill by the test runner.
topology_trap() {
  # set -e ends a test at the first failing command: name it, or the failure is silent.
  # (ERR also fires under set +e, where a failure is expected and checked: stay quiet there.)
  trap '[[ $- != *e* ]] || echo "FAIL: command failed (exit $?) at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR
  trap topology_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
}

topology_cleanup() {
  local pid ns
  for pid in "${PGT_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PGT_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PGT_PIDS=()
  _pgt_delete_namespaces
  if [ -n "$PGT_WORK" ] && [ -d "$PGT_WORK" ] && [ -z "${PGT_KEEP_WORK:-}" ]; then
    rm -rf "$PGT_WORK"
  fi
}

# _pgt_host <ns> <port-name-on-bridge> <addr4/len> <addr6/len> [routes...]
_pgt_host() {
  local ns="$1" port="$2" addr4="$3" addr6="$4"
  shift 4
  pgt_netns_add "$ns"
  ip -n "$PGT_BR" link add "$port" type veth peer name eth0 netns "$ns"
  ip -n "$PGT_BR" link set "$port" master br0 up
  pgt_in "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  pgt_in "$ns" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr4" dev eth0
  ip -n "$ns" -6 addr add "$addr6" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  local route
  for route in "$@"; do ip -n "$ns" route add "$route" dev eth0; done
}

# topology_create: the bridge, every host's namespace, veth, addresses and routes.
topology_create() {
  [ -n "$PGT_WORK" ] || PGT_WORK="$(mktemp -d /tmp/pgt-work.XXXXXX)"
  mkdir -p "$PGT_WORK"
  pgt_netns_add "$PGT_BR"
  ip -n "$PGT_BR" link set lo up
  ip -n "$PGT_BR" link add br0 type bridge
  # Multicast snooping would make IPv6 neighbour discovery depend on a querier.
  ip -n "$PGT_BR" link set br0 type bridge mcast_snooping 0
  ip -n "$PGT_BR" link set br0 up
  local instance role ns
  for instance in "${PGT_INSTANCES[@]}"; do
    for role in "${PGT_ROLES[@]}"; do
      ns="$(pgt_vm "$instance" "$role")"
      _pgt_host "$ns" "$instance-$role" "$(pgt_addr4 "$instance" "$role")/16" \
        "$(pgt_addr6 "$instance" "$role")/48" \
        198.19.1.0/24 198.19.128.0/24 2001:db8:2:1::/64 2001:db8:2:8000::/64
    done
    # The VIP lives on the first pgpool, as pgpool's watchdog would put it there.
    ns="$(pgt_vm "$instance" pgpool0)"
    ip -n "$ns" addr add "$(pgt_vip4 "$instance")/16" dev eth0
    ip -n "$ns" -6 addr add "$(pgt_vip6 "$instance")/48" dev eth0 nodad
  done
  _pgt_host "$PGT_APP_NS" app "$PGT_APP4/24" "$PGT_APP6/64" 198.18.0.0/16 198.19.128.0/24 \
    2001:db8:1::/48 2001:db8:2:8000::/64
  _pgt_host "$PGT_CTL_NS" ctl "$PGT_CTL4/24" "$PGT_CTL6/64" 198.18.0.0/16 198.19.1.0/24 \
    2001:db8:1::/48 2001:db8:2:1::/64
}

# Only this run's namespaces (PGT_NAMESPACES, newest first), and what runs inside them.
# `remove` first, so pgguard-isolate also drops its per-namespace record in /run.
_pgt_delete_namespaces() {
  local i ns pid
  for ((i = ${#PGT_NAMESPACES[@]} - 1; i >= 0; i--)); do
    ns="${PGT_NAMESPACES[i]}"
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    if [ -n "${PGT_ISOLATE:-}" ] && [ -x "$PGT_ISOLATE" ]; then
      ip netns exec "$ns" "$PGT_ISOLATE" remove --table "${PGT_TABLE:-secure_postgres}" >/dev/null 2>&1 || true
    fi
    ip netns del "$ns" 2>/dev/null || true
  done
  PGT_NAMESPACES=()
}

# topology_start_listeners: an echo listener on every port in every VM; waits until all listen.
topology_start_listeners() {
  local ns tcp udp
  tcp="$(IFS=,; echo "${PGT_TCP_PORTS[*]}")"
  udp="$(IFS=,; echo "${PGT_UDP_PORTS[*]}")"
  for ns in $(pgt_all_vms); do
    rm -f "$PGT_WORK/$ns.state"
    pgt_in "$ns" "$PGT_PYTHON" "$PGT_NETPROBE" serve --tcp "$tcp" --udp "$udp" \
      --state "$PGT_WORK/$ns.state" &
    PGT_PIDS+=($!)
  done
  local deadline=$((SECONDS + 30))
  for ns in $(pgt_all_vms); do
    until [ -s "$PGT_WORK/$ns.state" ]; do
      [ $SECONDS -lt $deadline ] || pgt_fail "listener in $ns did not start"
      sleep 0.1
    done
  done
}

# pgt_listener_counts <ns>: JSON with the TCP/UDP peers the listener accepted so far.
pgt_listener_counts() {
  local ns="$1"
  rm -f "$PGT_WORK/$ns.state"
  kill -USR1 "$(cat "$PGT_WORK/$ns.state.pid")"
  local deadline=$((SECONDS + 10))
  until [ -s "$PGT_WORK/$ns.state" ]; do
    [ $SECONDS -lt $deadline ] || pgt_fail "listener in $ns did not report"
    sleep 0.05
  done
  cat "$PGT_WORK/$ns.state"
}

# pgt_wait_line <file> <regex> <what>: waits (30 s at most) until a line of <file> matches.
pgt_wait_line() {
  local deadline=$((SECONDS + 30))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || pgt_fail "timed out waiting for $3"
    sleep 0.1
  done
}

# pgt_hold_send <dir> <message>: hands a line to a `netprobe.py hold` process. Opening its fifo
# blocks until the process reads, so a dead holder fails the test instead of hanging it.
pgt_hold_send() {
  timeout 10 bash -c 'echo "$2" >"$1/in"' _ "$1" "$2" || pgt_fail "the connection holder in $1 is gone"
}
