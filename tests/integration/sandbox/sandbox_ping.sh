#!/bin/bash
# pgpool's ping inside pgpool's sandbox. The watchdog execs `<ping_path>/ping -q -c3 VIP` after
# if_up_cmd and gives the VIP up when no reply comes; it reads the average after the fourth
# '/' of the output. iputils' ping cannot run there (file capability, empty bounding set), so
# ping_path holds pgguard-ping as `ping`, which uses an ICMP datagram socket allowed by
# net.ipv4.ping_group_range. Two namespaces of this test (pgp-*, 198.18.120.0/24, veth): under
# the pgpool watchdog profile, from pgpool's user and group, a host that answers gives exit 0
# and an average pgpool's parsing reads (IPv4 and IPv6), a silent address exit 1 and no rtt
# line, no route exit 1; a group outside ping_group_range exit 3 naming the sysctl, a host
# name exit 2; and iputils' ping under the same profile is refused, as documented.
# Usage: sandbox_ping.sh PGGUARD_LAUNCH PGGUARD_PING
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_setup "$1"
PING_BIN=${2:?usage: $0 PGGUARD_LAUNCH PGGUARD_PING}
require_netns

NS_A=pgp-a-$$
NS_B=pgp-b-$$
ip netns add "$NS_A" || missing_prerequisite "ip netns add"
sb_on_exit "ip netns del '$NS_A'"
ip netns add "$NS_B" || missing_prerequisite "ip netns add"
sb_on_exit "ip netns del '$NS_B'"
ip -n "$NS_A" link add pgp-a type veth peer name pgp-b netns "$NS_B" ||
  missing_prerequisite "veth devices"
ip -n "$NS_A" addr add 198.18.120.1/24 dev pgp-a
ip -n "$NS_B" addr add 198.18.120.2/24 dev pgp-b
for ns in "$NS_A" "$NS_B"; do
  ip -n "$ns" link set lo up
done
ip -n "$NS_A" link set pgp-a up
ip -n "$NS_B" link set pgp-b up

# ping_path as the pgguard package lays it out (pool.conf: ping_path = PGGUARD_DIR/libexec/pgguard):
# a directory whose `ping` is pgguard-ping, beneath the profile's `execute = @PGGUARD_DIR@`.
CONF=$SB_WORK/pool-conf
PGGUARD=$SB_WORK/pgguard
PING_DIR=$PGGUARD/libexec/pgguard
RUN=$SB_WORK/pool-run
LOG=$SB_WORK/pool-log
install -d -m 755 "$CONF" "$PGGUARD" "$PGGUARD/libexec" "$PING_DIR" || exit 1
install -d -o postgres -g postgres -m 700 "$RUN" "$LOG" || exit 1
install -m 755 "$PING_BIN" "$PING_DIR/pgguard-ping" || exit 1
ln -s pgguard-ping "$PING_DIR/ping" || exit 1
sb_render "$SB_PROFILES/pgpool-watchdog.conf.in" "$SB_WORK/pool.conf" USER=postgres \
  GROUP=postgres RUN_DIR="$RUN" SOCKET_DIR="$SB_SOCK" LOG_DIR="$LOG" CONF_DIR="$CONF" PGGUARD_DIR="$PGGUARD" \
  PORT=55495 PCP_PORT=55496 WD_PORT=55497 CONNECT_PORTS=55495 || exit 1
POSTGRES_GID=$(id -g postgres)

in_a() { ip netns exec "$NS_A" "$@"; }
# ping_as_pgpool ARGS...: pgpool's exec, in namespace A under pgpool's profile; sets OUT, ERR, RC.
ping_as_pgpool() {
  in_a "$SB_LAUNCH" run --profile "$SB_WORK/pool.conf" -- "$PING_DIR/ping" "$@" \
    >"$SB_WORK/ping.out" 2>"$SB_WORK/ping.err"
  RC=$?
  OUT=$(cat "$SB_WORK/ping.out")
  ERR=$(cat "$SB_WORK/ping.err")
}
# pgpool's reading of the output (wd_ping.c): the number between the fourth and fifth '/'.
pgpool_average() { awk -F/ 'NF >= 6 { print $5; exit }' <<<"$1"; }
expect_reply() {  # WHAT ADDRESS
  ping_as_pgpool -q -c3 "$2"
  local average
  average=$(pgpool_average "$OUT")
  if [ "$RC" -eq 0 ] && [[ "$average" =~ ^[0-9]+\.[0-9]{3}$ ]] &&
    grep -q "^3 packets transmitted, 3 received, 0% packet loss" <<<"$OUT"; then
    sb_pass "$1: exit 0, pgpool reads an average of $average ms"
  else
    sb_fail "$1: exit $RC, average '$average', output: $OUT $ERR"
  fi
}

in_a sysctl -qw net.ipv4.ping_group_range="$POSTGRES_GID $POSTGRES_GID"
expect_reply "IPv4 host that answers" 198.18.120.2
expect_reply "IPv6 loopback" ::1

ping_as_pgpool -q -c2 -W1 198.18.120.3
if [ "$RC" -eq 1 ] && [ -z "$(pgpool_average "$OUT")" ] &&
  grep -q "^2 packets transmitted, 0 received, 100% packet loss" <<<"$OUT"; then
  sb_pass "silent address: exit 1, no rtt line"
else
  sb_fail "silent address: exit $RC, output: $OUT $ERR"
fi
ping_as_pgpool -q -c1 198.19.200.1
if [ "$RC" -eq 1 ] && grep -q "no route to 198.19.200.1" <<<"$ERR"; then
  sb_pass "no route: exit 1 ($ERR)"
else
  sb_fail "no route: exit $RC, output: $OUT $ERR"
fi
ping_as_pgpool -q -c1 pgpool.example
if [ "$RC" -eq 2 ] && grep -q "host names are not resolved" <<<"$ERR"; then
  sb_pass "host name refused: exit 2"
else
  sb_fail "host name: exit $RC, output: $OUT $ERR"
fi
ping_as_pgpool -q -c1 -x 198.18.120.2
[ "$RC" -eq 2 ] && sb_pass "unknown option refused: exit 2" ||
  sb_fail "unknown option: exit $RC, output: $OUT $ERR"

in_a sysctl -qw net.ipv4.ping_group_range="1 0"
ping_as_pgpool -q -c1 198.18.120.2
if [ "$RC" -eq 3 ] && grep -q "net.ipv4.ping_group_range is '1 0'" <<<"$ERR"; then
  sb_pass "group outside ping_group_range: exit 3, the sysctl named"
else
  sb_fail "group outside ping_group_range: exit $RC, output: $OUT $ERR"
fi

# Why the helper exists: iputils' ping under the same profile (with the group allowed).
in_a sysctl -qw net.ipv4.ping_group_range="$POSTGRES_GID $POSTGRES_GID"
IPUTILS_PING=/usr/bin/ping
[ -x "$IPUTILS_PING" ] || IPUTILS_PING=/bin/ping
if [ -x "$IPUTILS_PING" ]; then
  in_a "$SB_LAUNCH" run --profile "$SB_WORK/pool.conf" -- "$IPUTILS_PING" -q -c1 \
    198.18.120.2 >"$SB_WORK/iputils.out" 2>&1
  RC=$?
  if [ "$RC" -ne 0 ] && grep -q "exec $IPUTILS_PING: Operation not permitted" "$SB_WORK/iputils.out"; then
    sb_pass "iputils ping refused under the pgpool profile: $(head -1 "$SB_WORK/iputils.out")"
  else
    sb_fail "iputils ping under the pgpool profile: exit $RC, $(cat "$SB_WORK/iputils.out")"
  fi
fi
sb_finish
