#!/bin/bash
# pgpool-II 4.3 as production runs it: three nodes with the watchdog on (heartbeat lifecheck,
# quorum, consensus), each under profiles/pgpool-watchdog.conf.in with a precompiled BPF file,
# in front of a PostgreSQL 15 backend under its own profile. The nodes share 127.0.0.1 with
# ports of their own (no VIP: that goes through the VIP helper, tested on its own). The cluster
# must form (one leader, two standbys, quorum), every node must serve queries, and after the
# leader stops the remaining two must elect a new one. Then a staging run of all three with
# default_action = log must make the kernel log no syscall outside the profile's allowlist.
# Usage: sandbox_pgpool_watchdog.sh PGGUARD_LAUNCH
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_own_ipc_namespace "$@"
sb_setup "$1"
sb_require_postgres
sb_require_pgpool
sb_require_kernel_log
PCP_WATCHDOG_INFO=${PCP_WATCHDOG_INFO:-/usr/sbin/pcp_watchdog_info}
[ -x "$PCP_WATCHDOG_INFO" ] || missing_prerequisite "pcp_watchdog_info (apt-get install pgpool2)"

sb_on_exit "sb_kill_leftovers '$SB_WORK'"  # registered first, so it runs last
PG_PORT=55452
NODES=(0 1 2)
pool_port() { echo $((55480 + $1)); }
pcp_port() { echo $((55483 + $1)); }
wd_port() { echo $((55486 + $1)); }
heartbeat_port() { echo $((55489 + $1)); }
UID_PG=$(id -u postgres)
GID_PG=$(id -g postgres)
DATA=$SB_WORK/data

# One configuration directory per node: pgpool reads its id from pgpool_node_id next to
# pgpool.conf, and the rest of the file is identical on every node (as BOSH renders it).
conf_dir() { echo "$SB_WORK/pool$1-conf"; }
run_dir() { echo "$SB_WORK/pool$1-run"; }
log_dir() { echo "$SB_WORK/pool$1-log"; }
connect_ports=$PG_PORT
for n in "${NODES[@]}"; do
  connect_ports="$connect_ports,$(wd_port "$n"),$(pool_port "$n")"
done
for n in "${NODES[@]}"; do
  sb_write_pgpool_conf "$(conf_dir "$n")" "$(run_dir "$n")" "$(log_dir "$n")" "$(pool_port "$n")" \
    "$(pcp_port "$n")" "$PG_PORT"
  sb_add_watchdog "$(conf_dir "$n")" "$n" "$(pool_port 0)" "$(wd_port 0)" "$(heartbeat_port 0)"
  sb_render "$SB_PROFILES/pgpool-watchdog.conf.in" "$SB_WORK/pool$n.conf" USER=postgres \
    GROUP=postgres RUN_DIR="$(run_dir "$n")" SOCKET_DIR="$SB_SOCK" LOG_DIR="$(log_dir "$n")" \
    CONF_DIR="$(conf_dir "$n")" PORT="$(pool_port "$n")" PCP_PORT="$(pcp_port "$n")" \
    WD_PORT="$(wd_port "$n")" CONNECT_PORTS="$connect_ports" || exit 1
  sb_check "compile node $n's seccomp filter" \
    "$SB_LAUNCH" compile --profile "$SB_WORK/pool$n.conf" --output "$SB_WORK/pool$n.bpf"
done
PCPPASS=$SB_WORK/pcppass
for n in "${NODES[@]}"; do echo "127.0.0.1:$(pcp_port "$n"):pcpadmin:secret"; done >"$PCPPASS"
chown postgres:postgres "$PCPPASS"
chmod 600 "$PCPPASS"

sb_start_backend "$DATA" "$PG_PORT" || sb_finish
for n in "${NODES[@]}"; do sb_on_exit "sb_stop_pgpool '$(run_dir "$n")'"; done

declare -A LAUNCHED
start_node() {  # N PROFILE [--seccomp-bpf FILE]
  local n=$1 profile=$2
  shift 2
  # shellcheck disable=SC2046
  "$SB_LAUNCH" run --profile "$profile" "$@" -- \
    "$SB_PGPOOL" $(sb_pgpool_args "$(conf_dir "$n")") >>"$SB_WORK/pool$n.out" 2>&1 &
  LAUNCHED[$n]=$!
}
stop_node() {  # N
  sb_stop_pgpool "$(run_dir "$1")"
  wait "${LAUNCHED[$1]}" 2>/dev/null
}
# watchdog_info N: "<leader's node name>|<total nodes>|<quorum state>" as node N's PCP sees it.
watchdog_info() {
  local out
  out=$(sb_as_postgres env PCPPASSFILE="$PCPPASS" "$PCP_WATCHDOG_INFO" -h 127.0.0.1 \
    -p "$(pcp_port "$1")" -U pcpadmin -w -v 2>/dev/null) || return 1
  awk -F' *: ' '/^Leader Node Name/ {l = $2} /^Total Nodes/ {t = $2} /^Quorum state/ {q = $2}
    END {print l "|" t "|" q}' <<<"$out"
}
# wait_for_leader NODE...: until every listed node reports the same leader, three nodes and
# quorum; prints that leader's node name.
wait_for_leader() {
  local tries=300 n info leader agreed node_leader total quorum
  while ((tries-- > 0)); do
    agreed=yes leader=
    for n in "$@"; do
      info=$(watchdog_info "$n") || { agreed=no; break; }
      IFS='|' read -r node_leader total quorum <<<"$info"
      if [ -z "$node_leader" ] || [ "$node_leader" = Not_Set ] || [ "$total" != 3 ] ||
        [[ "$quorum" != "QUORUM EXIST"* ]]; then
        agreed=no
        break
      fi
      [ -z "$leader" ] && leader=$node_leader
      [ "$leader" = "$node_leader" ] || agreed=no
    done
    if [ "$agreed" = yes ]; then
      echo "$leader"
      return 0
    fi
    sleep 0.2
  done
  return 1
}
node_of() {  # the node number whose pgpool port a node name ("127.0.0.1:PORT Linux ...") names
  local n
  for n in "${NODES[@]}"; do
    [[ "$1" == *":$(pool_port "$n") "* || "$1" == *":$(pool_port "$n")" ]] && { echo "$n"; return; }
  done
}
queries_through() {  # N
  [ "$(sb_as_postgres "$SB_PGBIN/psql" -X -At -v ON_ERROR_STOP=1 -U postgres -d postgres \
    -h 127.0.0.1 -p "$(pool_port "$1")" -c "SELECT 40 + 2")" = 42 ]
}

# start_cluster PROFILE_PREFIX [--seccomp-bpf]: node 0 first, until it leads (without quorum
# yet), then the others, which join it. Nodes started at the same instant on a loaded machine
# can keep rejecting each other's stand for leader for a long time.
start_cluster() {
  local prefix=$1 with_bpf=${2:-} n tries=300
  for n in "${NODES[@]}"; do
    if [ -n "$with_bpf" ]; then
      start_node "$n" "$SB_WORK/$prefix$n.conf" --seccomp-bpf "$SB_WORK/pool$n.bpf"
    else
      start_node "$n" "$SB_WORK/$prefix$n.conf"
    fi
    if [ "$n" = 0 ]; then
      while ((tries-- > 0)); do
        [[ "$(watchdog_info 0)" == "127.0.0.1:$(pool_port 0) "* ]] && break
        sleep 0.2
      done
    fi
  done
}

start_cluster pool --seccomp-bpf
if leader=$(wait_for_leader "${NODES[@]}"); then
  sb_pass "watchdog cluster formed under the sandbox: leader $leader, quorum, 3 nodes agree"
  for n in "${NODES[@]}"; do
    sb_check "node $n serves queries" queries_through "$n"
    main=$(tr -d '\0' <"$(run_dir "$n")/pgpool.pid" | head -1)
    sb_check_sandboxed "pgpool node $n main" "$main" "$UID_PG" "$GID_PG"
    watchdog_child=$(pgrep -P "$main" -f 'watchdog$' | head -1)
    if [ -n "$watchdog_child" ]; then
      sb_check_sandboxed "pgpool node $n watchdog process" "$watchdog_child" "$UID_PG" "$GID_PG"
    else
      sb_fail "node $n has no watchdog process"
    fi
  done
  old=$(node_of "$leader")
  if [ -n "$old" ]; then
    stop_node "$old"
    rest=()
    for n in "${NODES[@]}"; do [ "$n" = "$old" ] || rest+=("$n"); done
    if new=$(wait_for_leader "${rest[@]}") && [ "$new" != "$leader" ]; then
      sb_pass "leader node $old stopped: the other two elected $new, with quorum"
    else
      sb_fail "no new leader after node $old stopped"
    fi
    start_node "$old" "$SB_WORK/pool$old.conf" --seccomp-bpf "$SB_WORK/pool$old.bpf"
    sb_check "node $old rejoined the cluster" wait_for_leader "${NODES[@]}"
  else
    sb_fail "cannot tell which node the leader '$leader' is"
  fi
else
  sb_fail "the watchdog cluster did not form (no agreed leader with quorum)"
  for n in "${NODES[@]}"; do tail -20 "$SB_WORK/pool$n.out" >&2; done
fi
for n in "${NODES[@]}"; do stop_node "$n"; done
DENIALS=$(sb_denial_lines "$SB_WORK"/pool?.out)
[ -z "$DENIALS" ] && sb_pass "no permission errors in the three nodes' logs" || {
  printf '%s\n' "$DENIALS" >&2
  sb_fail "permission errors in the nodes' logs"
}

# Staging: the same cluster with default_action = log; the kernel logs what the errno run would
# have refused, including syscalls whose failure pgpool tolerates silently.
MARK=$(sb_kmsg_mark)
for n in "${NODES[@]}"; do
  sed 's/^default_action = errno$/default_action = log\nstaging = true/' "$SB_WORK/pool$n.conf" >"$SB_WORK/staging$n.conf"
done
start_cluster staging
if wait_for_leader "${NODES[@]}" >/dev/null; then
  for n in "${NODES[@]}"; do queries_through "$n" || sb_fail "staging: node $n queries"; done
  sleep 3 # a few heartbeat, health-check and sr-check rounds
else
  sb_fail "staging: the watchdog cluster did not form"
fi
for n in "${NODES[@]}"; do stop_node "$n"; done
LOGGED=$(sb_seccomp_logged "$MARK" "$UID_PG")
[ -z "$LOGGED" ] && sb_pass "staging run: no syscall outside the watchdog profile's allowlist" || {
  printf 'count syscall comm:\n%s\n' "$LOGGED" >&2
  sb_fail "staging run: the watchdog cluster used syscalls outside its allowlist"
}
sb_finish
