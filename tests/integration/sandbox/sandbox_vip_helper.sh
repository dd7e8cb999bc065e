#!/bin/bash
# The VIP helper profile (profiles/vip-helper.conf.in): an unprivileged user with
# CAP_NET_ADMIN + CAP_NET_RAW as bounding + ambient capabilities adds and removes an address
# on a veth device in a network namespace of this test (pgv-*, 198.18.0.0/15). Its process
# holds exactly those two capabilities (CapAmb = CapEff = CapPrm = CapBnd = 0x3000); a child
# started under the postgres server profile holds none, and the same `ip addr add` run under
# the postgres profile is refused. The ARP announcement of the VIP (pgpool's arping_cmd, here
# pgguard-garp: iputils' arping insists on prctl(PR_SET_KEEPCAPS), which the locked securebits
# refuse) is sent under the VIP profile, seen on the other end of the veth pair, and refused
# under the postgres profile.
# Usage: sandbox_vip_helper.sh PGGUARD_LAUNCH PROBE PGGUARD_GARP
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_setup "$1"
PROBE_BIN=${2:?usage: $0 PGGUARD_LAUNCH PROBE}
require_netns
IP=/usr/sbin/ip
[ -x "$IP" ] || IP=/sbin/ip

NETNS=pgv-vip-$$
VIP=198.18.7.10
DEV=pgv-vip0
ip netns add "$NETNS" || missing_prerequisite "ip netns add"
sb_on_exit "ip netns del '$NETNS'"
ip netns exec "$NETNS" ip link add "$DEV" type veth peer name pgv-vip1 ||
  missing_prerequisite "veth devices"
ip netns exec "$NETNS" ip link set "$DEV" up
# The peer end up too: the ARP announcement must arrive somewhere to be seen.
ip netns exec "$NETNS" ip link set pgv-vip1 up

install -d -m 755 "$SB_WORK/probe"
install -m 755 "$PROBE_BIN" "$SB_WORK/probe/probe"
install -m 755 "${3:?usage: $0 PGGUARD_LAUNCH PROBE PGGUARD_GARP}" "$SB_WORK/probe/pgguard-garp"
VIP_USER=nobody
sb_render "$SB_PROFILES/vip-helper.conf.in" "$SB_WORK/vip.conf" USER="$VIP_USER" \
  GROUP="$(id -gn "$VIP_USER")" || exit 1
printf '\n[landlock]\nread = %s\n' "$SB_WORK/probe" >>"$SB_WORK/vip.conf"
mkdir -p "$SB_WORK"/{data,log,archive,scratch,conf}
chown postgres: "$SB_WORK"/{data,log,archive,scratch}
sb_render "$SB_PROFILES/postgres-server.conf.in" "$SB_WORK/server.conf" USER=postgres \
  GROUP=postgres DATA_DIR="$SB_WORK/data" SOCKET_DIR="$SB_SOCK" LOG_DIR="$SB_WORK/log" \
  ARCHIVE_DIR="$SB_WORK/archive" SCRATCH_DIR="$SB_WORK/scratch" CONF_DIR="$SB_WORK/conf" \
  PORT=55460 CONNECT_PORTS=55460 || exit 1
printf '\n[landlock]\nread = %s\n' "$SB_WORK/probe" >>"$SB_WORK/server.conf"

in_ns() { ip netns exec "$NETNS" "$@"; }
has_vip() { in_ns ip -4 -o addr show dev "$DEV" | grep -q " $VIP/24 "; }

if in_ns "$SB_LAUNCH" run --profile "$SB_WORK/vip.conf" -- "$IP" addr add "$VIP/24" dev "$DEV" \
  label "$DEV:vip"; then
  has_vip && sb_pass "VIP helper added $VIP to $DEV in $NETNS" || sb_fail "address not present after add"
else
  sb_fail "VIP helper could not add the address"
fi
# arp_seen TIMEOUT: exits 0 once an ARP frame with the VIP as sender reaches the peer device.
arp_seen() {
  in_ns /usr/bin/python3 - pgv-vip1 "$VIP" "$1" <<'EOF'
import select, socket, sys, time
device, address, timeout = sys.argv[1], socket.inet_aton(sys.argv[2]), float(sys.argv[3])
listener = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
listener.bind((device, 0))
print("listening", flush=True)
deadline = time.monotonic() + timeout
while (left := deadline - time.monotonic()) > 0:
    if not select.select([listener], [], [], left)[0]:
        break
    arp = listener.recv(2048)[14:]
    # An announcement (RFC 5227): a request whose sender and target addresses are the VIP.
    if len(arp) >= 28 and arp[7] == 1 and arp[14:18] == address and arp[24:28] == address:
        sys.exit(0)
sys.exit(1)
EOF
}
gratuitous_arp() {  # PROFILE: announces the VIP under it; 0 if the peer saw the announcement
  local seen=$SB_WORK/arp.out watcher
  arp_seen 5 >"$seen" &
  watcher=$!
  for _ in $(seq 50); do grep -q listening "$seen" 2>/dev/null && break; sleep 0.1; done
  in_ns "$SB_LAUNCH" run --profile "$1" -- "$SB_WORK/probe/pgguard-garp" --interface "$DEV" \
    --address "$VIP" --count 2 >"$SB_WORK/garp.err" 2>&1 || {
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null
    return 1
  }
  wait "$watcher"
}
if gratuitous_arp "$SB_WORK/vip.conf"; then
  sb_pass "VIP helper announced $VIP (pgguard-garp), seen on the peer device"
else
  sb_fail "the ARP announcement under the VIP helper profile failed or was not seen"
fi
if gratuitous_arp "$SB_WORK/server.conf"; then
  sb_fail "pgguard-garp succeeded under the postgres profile"
else
  sb_pass "pgguard-garp refused under the postgres profile: $(head -1 "$SB_WORK/garp.err")"
fi

if in_ns "$SB_LAUNCH" run --profile "$SB_WORK/vip.conf" -- "$IP" addr del "$VIP/24" dev "$DEV"; then
  has_vip && sb_fail "address still present after del" || sb_pass "VIP helper removed $VIP"
else
  sb_fail "VIP helper could not remove the address"
fi

expect_status() {  # WHAT OUTPUT KEY VALUE
  local value
  value=$(awk -v key="$3:" '$1 == key { print $2 }' <<<"$2")
  [ "$value" = "$4" ] && sb_pass "$1: $3 = $4" || sb_fail "$1: $3 is '$value', expected $4"
}
OUT=$(in_ns "$SB_LAUNCH" run --profile "$SB_WORK/vip.conf" -- "$SB_WORK/probe/probe" status)
for key in CapAmb CapEff CapPrm CapInh CapBnd; do
  expect_status "VIP helper" "$OUT" "$key" 0000000000003000  # CAP_NET_ADMIN | CAP_NET_RAW
done
expect_status "VIP helper" "$OUT" NoNewPrivs 1
expect_status "VIP helper" "$OUT" Seccomp 2
[ "$(awk '$1 == "Uid:" { print $3 }' <<<"$OUT")" = "$(id -u "$VIP_USER")" ] &&
  sb_pass "VIP helper runs as $VIP_USER" || sb_fail "VIP helper uid: $OUT"

# A child (through sh, as archive_command would run) under the postgres server profile.
OUT=$(in_ns "$SB_LAUNCH" run --profile "$SB_WORK/server.conf" -- /bin/sh -c \
  "$SB_WORK/probe/probe status; true")
for key in CapAmb CapEff CapPrm CapInh CapBnd; do
  expect_status "child of the postgres profile" "$OUT" "$key" 0000000000000000
done
if in_ns "$SB_LAUNCH" run --profile "$SB_WORK/server.conf" -- "$IP" addr add "$VIP/24" dev "$DEV" \
  2>/dev/null; then
  sb_fail "ip addr add succeeded under the postgres profile"
else
  has_vip && sb_fail "address added under the postgres profile" ||
    sb_pass "ip addr add refused under the postgres profile"
fi
sb_finish
