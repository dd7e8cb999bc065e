#!/bin/bash
# The VIP broker (pgguard-vip serve) under the vip-helper profile (profiles/vip-helper.conf.in),
# and its client under pgpool's watchdog profile, in a network namespace of this run (pgv-*,
# 198.18.0.0/15) with a veth pair:
#   - the broker runs as an unprivileged user (nobody, in the client's group) holding exactly
#     CAP_NET_ADMIN + CAP_NET_RAW (all five sets), NoNewPrivs 1, Seccomp 2; its socket is 0660;
#   - the client, as postgres (standing in for pgpool) under pgpool-watchdog.conf.in: up adds
#     the VIP (twice: already present), announce reaches the other end of the veth pair as an
#     RFC 5227 announcement, down removes it (twice: already absent);
#   - refused, each changing nothing: another address, another uid in the client's group
#     (daemon, SO_PEERCRED), a user outside the group (the socket's mode), an overlong line;
#     a client that connects and sends nothing holds the broker for the request timeout only;
#   - pgpool's profile cannot add the address itself;
#   - under the broker's profile: exec of /usr/sbin/ip is refused (Landlock); nft, allowed to
#     run (its programs and syscalls added to a copy of the profile), cannot open a
#     NETLINK_NETFILTER socket, and the namespace's and the host's table lists stay as they
#     were; the same copy without the `[seccomp] socket` rule lets nft add the table, so the rule
#     is what stops it (issue 18, item 13);
#   - a staging run (default_action = log) of the whole exchange leaves no seccomp record, and a
#     control (ip, whose getuid the broker's groups lack) shows that records do arrive.
# Usage: sandbox_vip_helper.sh PGGUARD_LAUNCH PGGUARD_VIP
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_setup "$1"
VIP_BIN=${2:?usage: $0 PGGUARD_LAUNCH PGGUARD_VIP}
[ -x "$VIP_BIN" ] || missing_prerequisite "pgguard-vip at $VIP_BIN (build it)"
require_netns
require_command nft setpriv readelf /usr/bin/python3 dmesg
# The profile lets the broker read and execute its own file and no library directory.
if readelf -l "$VIP_BIN" | grep -q 'Requesting program interpreter'; then
  missing_prerequisite "a static-PIE pgguard-vip: $VIP_BIN is dynamically linked (sanitizer build or PGGUARD_STATIC_PROGRAMS=OFF)"
fi
IP=/usr/sbin/ip
[ -x "$IP" ] || IP=/sbin/ip
NFT=$(command -v nft)

NETNS=pgv-vip-$$
VIP=198.18.7.10
OTHER=198.18.7.11
DEV=pgv-vip0
PEER=pgv-vip1
BROKER_USER=nobody
CLIENT=postgres
CLIENT_GROUP=$(id -gn "$CLIENT")
OTHER_USER=daemon  # another uid; put in the client's group by its profile
UID_BROKER=$(id -u "$BROKER_USER")
GID_CLIENT=$(id -g "$CLIENT")

ip netns add "$NETNS" || missing_prerequisite "ip netns add"
sb_on_exit "ip netns del '$NETNS'"
ip netns exec "$NETNS" ip link add "$DEV" type veth peer name "$PEER" ||
  missing_prerequisite "veth devices"
ip netns exec "$NETNS" ip link set "$DEV" up
# The peer end up too: the ARP announcement must arrive somewhere to be seen.
ip netns exec "$NETNS" ip link set "$PEER" up
ip netns exec "$NETNS" ip link set lo up

# The pgguard package as the profiles name it: @PGGUARD_DIR@/bin/pgguard-vip.
PKG=$SB_WORK/pgguard
install -d -m 755 "$PKG" "$PKG/bin"
install -m 755 "$VIP_BIN" "$PKG/bin/pgguard-vip"
RUN=$SB_WORK/vip-run
SOCK=$RUN/vip.sock
install -d -o "$BROKER_USER" -g "$CLIENT_GROUP" -m 750 "$RUN"
CONF=$SB_WORK/vip.conf
printf 'address = %s/24\ninterface = %s\nsocket = %s\nclient = %s\nannounce_count = 2\n' \
  "$VIP" "$DEV" "$SOCK" "$CLIENT" >"$CONF"
chmod 644 "$CONF"
sb_render "$SB_PROFILES/vip-helper.conf.in" "$SB_WORK/broker.profile" USER="$BROKER_USER" \
  GROUP="$CLIENT_GROUP" RUN_DIR="$RUN" PGGUARD_DIR="$PKG" VIP_CONFIG="$CONF" || exit 1
render_pgpool() {  # USER OUTPUT: pgpool's watchdog profile for USER in the client's group
  local dir=$SB_WORK/pgpool-$1
  mkdir -p "$dir"/{run,sock,log,conf}
  chown "$1:$CLIENT_GROUP" "$dir"/{run,sock,log}
  sb_render "$SB_PROFILES/pgpool-watchdog.conf.in" "$2" USER="$1" GROUP="$CLIENT_GROUP" \
    RUN_DIR="$dir/run" SOCKET_DIR="$dir/sock" LOG_DIR="$dir/log" CONF_DIR="$dir/conf" \
    PORT=55480 PCP_PORT=55481 WD_PORT=55482 CONNECT_PORTS=55483 PGGUARD_DIR="$PKG"
}
render_pgpool "$CLIENT" "$SB_WORK/pgpool.profile" || exit 1
render_pgpool "$OTHER_USER" "$SB_WORK/other.profile" || exit 1

in_ns() { ip netns exec "$NETNS" "$@"; }
has_address() { in_ns "$IP" -4 -o addr show dev "$DEV" | grep -q " $1/24 "; }
addresses() { in_ns "$IP" -4 -o addr show dev "$DEV" | awk '{ print $4 }' | sort | tr '\n' ' '; }

BROKER_PID=
BROKER_LOG=$SB_WORK/broker.log
# At exit, a broker still running is killed; a pid that is no longer the broker's is left alone.
kill_broker() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = pgguard-vip ] && kill -KILL "$1"; }
start_broker() {  # PROFILE: the broker in the background; 0 once its socket is there
  : >"$BROKER_LOG"
  # Not through in_ns: a function would run in a subshell of its own, whose pid $! would be.
  # ip netns exec and the launcher exec in place, so $! is the broker's pid.
  ip netns exec "$NETNS" "$SB_LAUNCH" run --pidfile "$SB_WORK/broker.pid" --profile "$1" -- \
    "$PKG/bin/pgguard-vip" serve --config "$CONF" >>"$BROKER_LOG" 2>&1 &
  BROKER_PID=$!
  sb_on_exit "kill_broker $BROKER_PID"
  for _ in $(seq 100); do
    [ -S "$SOCK" ] && return 0
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$BROKER_LOG" >&2
  return 1
}
STATUS=
stop_broker() {  # sets STATUS to the broker's exit status
  kill -TERM "$BROKER_PID" 2>/dev/null
  wait "$BROKER_PID"
  STATUS=$?
}
OUT=$SB_WORK/client.out
client() {  # PROFILE ACTION ADDRESS: the client under PROFILE; its exit status, output in $OUT
  in_ns "$SB_LAUNCH" run --profile "$1" -- "$PKG/bin/pgguard-vip" --socket "$SOCK" "$2" "$3" \
    >"$OUT" 2>&1
}
expect_client() {  # WHAT STATUS TEXT PROFILE ACTION ADDRESS
  local what=$1 status=$2 text=$3 rc
  shift 3
  client "$@"
  rc=$?
  if [ "$rc" -eq "$status" ] && grep -qF -- "$text" "$OUT"; then
    sb_pass "$what: exit $rc, $(head -1 "$OUT")"
  else
    sb_fail "$what: exit $rc (expected $status), output: $(cat "$OUT") (expected '$text')"
  fi
}

# arp_seen TIMEOUT: exits 0 once an ARP announcement of the VIP reaches the peer device.
arp_seen() {
  in_ns /usr/bin/python3 - "$PEER" "$VIP" "$1" <<'EOF'
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
announce_seen() {  # PROFILE: announces through the broker; 0 if the peer saw the announcement
  local seen=$SB_WORK/arp.out watcher
  arp_seen 5 >"$seen" &
  watcher=$!
  for _ in $(seq 50); do grep -q listening "$seen" 2>/dev/null && break; sleep 0.1; done
  if ! client "$1" announce "$VIP"; then
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null
    return 1
  fi
  wait "$watcher"
}

# The whole exchange a failover makes, with the refusals in between. Used for the errno run
# and again for the staging run.
exercise() {  # PREFIX
  local p=$1
  expect_client "$p: up as $CLIENT" 0 "ok up $VIP/24 on $DEV: added" "$SB_WORK/pgpool.profile" up "$VIP"
  has_address "$VIP" && sb_pass "$p: $VIP is on $DEV" || sb_fail "$p: $VIP not on $DEV after up"
  expect_client "$p: up again" 0 "already present" "$SB_WORK/pgpool.profile" up "$VIP"
  if announce_seen "$SB_WORK/pgpool.profile"; then
    sb_pass "$p: announce: $(head -1 "$OUT"), seen on $PEER"
  else
    sb_fail "$p: announce failed or not seen on $PEER: $(cat "$OUT")"
  fi
  expect_client "$p: down as $CLIENT" 0 "ok down $VIP/24 on $DEV: removed" "$SB_WORK/pgpool.profile" down "$VIP"
  has_address "$VIP" && sb_fail "$p: $VIP still on $DEV after down" || sb_pass "$p: $VIP is gone"
  expect_client "$p: down again" 0 "already absent" "$SB_WORK/pgpool.profile" down "$VIP"
}

# --- the program's own refusals, before anything runs ---------------------------------------
"$PKG/bin/pgguard-vip" check --config "$CONF" >"$OUT" 2>&1
rc=$?
# The interface lives in the test's namespace only.
[ "$rc" -eq 2 ] && grep -q "$CONF:2: interface: no interface '$DEV' in this network namespace" "$OUT" &&
  sb_pass "check outside the namespace: exit 2, $(cat "$OUT")" || sb_fail "check: exit $rc: $(cat "$OUT")"
in_ns "$PKG/bin/pgguard-vip" check --config "$CONF" >"$OUT" 2>&1 &&
  sb_pass "check in the namespace: $(cat "$OUT")" || sb_fail "check in the namespace: $(cat "$OUT")"
sed 's/^client = .*/client = no-such-account/' "$CONF" >"$SB_WORK/bad.conf"
in_ns "$PKG/bin/pgguard-vip" check --config "$SB_WORK/bad.conf" >"$OUT" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "bad.conf:4: client: user 'no-such-account' does not exist in /etc/passwd" "$OUT" &&
  sb_pass "an unknown client: exit 2" || sb_fail "unknown client: exit $rc: $(cat "$OUT")"
in_ns "$PKG/bin/pgguard-vip" serve --config "$CONF" >"$OUT" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "never as root" "$OUT" && [ ! -e "$SOCK" ] &&
  sb_pass "serve as root: exit 2, no socket" || sb_fail "serve as root: exit $rc: $(cat "$OUT")"

# --- the errno run -------------------------------------------------------------------------
if ! start_broker "$SB_WORK/broker.profile"; then
  sb_fail "the broker did not start under the vip-helper profile"
  sb_finish
fi
[ "$(cat "$SB_WORK/broker.pid")" = "$BROKER_PID" ] && sb_pass "the launcher's pid file names the broker" ||
  sb_fail "pid file holds '$(cat "$SB_WORK/broker.pid")', the broker is $BROKER_PID"
[ "$(cat "/proc/$BROKER_PID/comm")" = pgguard-vip ] || sb_fail "pid $BROKER_PID is $(cat "/proc/$BROKER_PID/comm")"
sb_check_sandboxed "broker" "$BROKER_PID" "$UID_BROKER" "$GID_CLIENT" 0000000000003000
[ "$(stat -c '%a %U %G %F' "$SOCK")" = "660 $BROKER_USER $CLIENT_GROUP socket" ] &&
  sb_pass "socket $SOCK: 0660 $BROKER_USER:$CLIENT_GROUP" ||
  sb_fail "socket: $(stat -c '%a %U %G %F' "$SOCK")"

exercise "errno"

in_ns "$IP" addr add "$VIP/24" dev "$DEV"  # the VIP up, as after a failover
BEFORE=$(addresses)
expect_client "another address" 1 "198.18.7.11 is not the address this broker manages" \
  "$SB_WORK/pgpool.profile" up "$OTHER"
expect_client "another address, down" 1 "is not the address this broker manages" \
  "$SB_WORK/pgpool.profile" down "$OTHER"
expect_client "another uid in the client's group ($OTHER_USER)" 1 \
  "refused: uid $(id -u "$OTHER_USER") is not the client '$CLIENT'" "$SB_WORK/other.profile" down "$VIP"
grep -q "uid $(id -u "$OTHER_USER"): refused" "$BROKER_LOG" && sb_pass "the refused uid is logged" ||
  sb_fail "no log line for the refused uid: $(cat "$BROKER_LOG")"
# Outside the client's group the socket's mode refuses the connection before the broker sees it.
in_ns setpriv --reuid="$OTHER_USER" --regid="$OTHER_USER" --clear-groups "$PKG/bin/pgguard-vip" \
  --socket "$SOCK" down "$VIP" >"$OUT" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "Permission denied" "$OUT" && sb_pass "outside the group: $(cat "$OUT")" ||
  sb_fail "outside the group: exit $rc: $(cat "$OUT")"
# Overlong, and a client that connects and sends nothing: the broker answers the first and
# drops the second after its 2 s timeout, while a real request waits at most that long.
in_ns setpriv --reuid="$CLIENT" --regid="$CLIENT_GROUP" --clear-groups /usr/bin/python3 - "$SOCK" \
  >"$SB_WORK/raw.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"up " + b"1" * 200 + b"\n")
print(s.recv(200).decode().strip(), flush=True)
idle = socket.socket(socket.AF_UNIX)
idle.connect(sys.argv[1])
print("idle connected", flush=True)
time.sleep(4)
print(idle.recv(200).decode().strip(), flush=True)
EOF
RAW=$!
for _ in $(seq 50); do grep -q "idle connected" "$SB_WORK/raw.out" && break; sleep 0.1; done
START=$(date +%s%N)
expect_client "a request behind an idle connection" 0 "already present" "$SB_WORK/pgpool.profile" up "$VIP"
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
[ "$ELAPSED_MS" -lt 3500 ] && sb_pass "... answered after $ELAPSED_MS ms (timeout 2000 ms)" ||
  sb_fail "the idle connection held the broker for $ELAPSED_MS ms"
wait "$RAW"
grep -q "^error request longer than 64 bytes" "$SB_WORK/raw.out" && sb_pass "overlong request refused" ||
  sb_fail "overlong request: $(cat "$SB_WORK/raw.out")"
grep -q "^error no complete request line within 2000 ms" "$SB_WORK/raw.out" &&
  sb_pass "idle connection dropped after the timeout" || sb_fail "idle: $(cat "$SB_WORK/raw.out")"
[ "$(addresses)" = "$BEFORE" ] && sb_pass "refusals changed nothing: $BEFORE" ||
  sb_fail "addresses changed from '$BEFORE' to '$(addresses)'"
in_ns "$IP" addr del "$VIP/24" dev "$DEV"

# pgpool's own profile cannot do what the broker does.
in_ns "$SB_LAUNCH" run --profile "$SB_WORK/pgpool.profile" -- "$IP" addr add "$VIP/24" dev "$DEV" \
  >"$OUT" 2>&1
rc=$?
if [ "$rc" -eq 0 ] || has_address "$VIP"; then
  sb_fail "ip addr add succeeded under pgpool's profile (exit $rc)"
else
  sb_pass "ip addr add refused under pgpool's profile (exit $rc) $(head -1 "$OUT")"
fi

DENIALS=$(sb_denial_lines "$BROKER_LOG")
[ -z "$DENIALS" ] && sb_pass "no permission error in the broker's log" ||
  sb_fail "permission errors in the broker's log: $DENIALS"
stop_broker
[ "$STATUS" = 0 ] && sb_pass "SIGTERM: the broker exits 0" || sb_fail "SIGTERM: exit $STATUS"
[ -e "$SOCK" ] && sb_fail "the socket is left behind" || sb_pass "the socket is removed at exit"
grep -q "stopping on SIGTERM" "$BROKER_LOG" || sb_fail "no stop line: $(tail -2 "$BROKER_LOG")"

# --- what the broker's profile forbids -----------------------------------------------------
if in_ns "$SB_LAUNCH" run --profile "$SB_WORK/broker.profile" -- "$IP" -4 addr show >"$OUT" 2>&1; then
  sb_fail "exec of $IP succeeded under the broker's profile"
else
  grep -q "exec $IP: Permission denied" "$OUT" && sb_pass "exec of $IP refused: $(head -1 "$OUT")" ||
    sb_fail "exec of $IP failed otherwise: $(cat "$OUT")"
fi
# nft needs /usr and three more syscalls to run at all; with them it reaches socket(2).
NFT_PROFILE=$SB_WORK/broker-nft.profile
cp "$SB_WORK/broker.profile" "$NFT_PROFILE"
printf '\n[seccomp]\nallow = getuid, pselect6, sendmsg\n[landlock]\nexecute = /usr\nread = /etc\n' \
  >>"$NFT_PROFILE"
grep -q '^socket = ' "$NFT_PROFILE" || sb_fail "the broker's profile has no [seccomp] socket rule"
sed '/^socket = /d' "$NFT_PROFILE" >"$SB_WORK/broker-nft-open.profile"
ROOT_TABLES_BEFORE=$(nft list tables 2>&1)
NS_TABLES_BEFORE=$(in_ns nft list tables 2>&1)
if in_ns "$SB_LAUNCH" run --profile "$NFT_PROFILE" -- "$NFT" add table inet pgv_broker >"$OUT" 2>&1; then
  sb_fail "nft add table succeeded under the broker's profile"
else
  grep -q "Operation not permitted" "$OUT" &&
    sb_pass "nft add table refused under the broker's profile: $(head -1 "$OUT")" ||
    sb_fail "nft failed otherwise (not the socket rule?): $(cat "$OUT")"
fi
[ "$(in_ns nft list tables 2>&1)" = "$NS_TABLES_BEFORE" ] &&
  sb_pass "the namespace's tables are unchanged ('$NS_TABLES_BEFORE')" ||
  sb_fail "the namespace's tables changed: $(in_ns nft list tables 2>&1)"
[ "$(nft list tables 2>&1)" = "$ROOT_TABLES_BEFORE" ] && sb_pass "the host's table list is unchanged" ||
  sb_fail "the host's table list changed"
# Control: the same copy without the socket rule. CAP_NET_ADMIN alone would let it through.
if in_ns "$SB_LAUNCH" run --profile "$SB_WORK/broker-nft-open.profile" -- "$NFT" add table inet \
  pgv_broker >"$OUT" 2>&1 && in_ns nft list tables | grep -q 'inet pgv_broker'; then
  sb_pass "control: without the socket rule nft adds the table (in $NETNS only)"
else
  sb_fail "control: nft did not run even without the socket rule: $(cat "$OUT")"
fi
[ "$(nft list tables 2>&1)" = "$ROOT_TABLES_BEFORE" ] || sb_fail "the host's table list changed"

# --- the staging run -----------------------------------------------------------------------
sed 's/^default_action = errno$/default_action = log\nstaging = true/' "$SB_WORK/broker.profile" \
  >"$SB_WORK/broker-staging.profile"
MARK=$(sb_kmsg_mark)
if start_broker "$SB_WORK/broker-staging.profile"; then
  exercise "staging"
  stop_broker
  LOGGED=$(sb_seccomp_logged "$MARK" "$UID_BROKER")
  [ -z "$LOGGED" ] && sb_pass "staging run: no syscall outside the broker's allowlist" ||
    sb_fail "staging run: the broker used syscalls outside its allowlist: $LOGGED"
  # Control: records of this uid do reach the log (ip calls getuid, which the groups lack).
  MARK=$(sb_kmsg_mark)
  sed 's/^default_action = errno$/default_action = log\nstaging = true/' "$SB_WORK/broker.profile" \
    >"$SB_WORK/ip-staging.profile"
  printf '\n[landlock]\nexecute = /usr\nread = /etc\n' >>"$SB_WORK/ip-staging.profile"
  in_ns "$SB_LAUNCH" run --profile "$SB_WORK/ip-staging.profile" -- "$IP" -4 addr show >/dev/null 2>&1
  grep -q getuid <<<"$(sb_seccomp_logged "$MARK" "$UID_BROKER")" &&
    sb_pass "control: a staging run's records reach the kernel log" ||
    sb_fail "control: no seccomp record of ip's getuid in the kernel log: the staging check saw nothing"
else
  sb_fail "the broker did not start under the staging profile"
fi
sb_finish
