#!/bin/bash
# Trace the real workloads of every sandbox profile with strace, one trace per profile:
#   initdb          initdb (which runs sh and postgres --boot/--single through popen)
#   server-primary  postmaster + every child: backends, parallel workers, JIT, autovacuum,
#                   checkpointer, archiver running archive_command (sh, test, cp),
#                   COPY TO/FROM PROGRAM (sh, gzip), walsender for pg_basebackup
#   server-standby  a streaming standby (startup, walreceiver), then promoted
#   pg_basebackup   plain format with WAL streaming, and tar format with gzip
#   pg_rewind       rewinding the old primary from the promoted standby over libpq
#   pgpool          pgpool-II 4.3 (watchdog off) serving queries to primary and standby,
#                   streaming-replication and health checks on, PCP queried
#   pgpool-watchdog-{0,1,2}  three pgpool nodes with the watchdog on (heartbeat, quorum), the
#                   leader stopped and the other two electing a new one, PCP watchdog info
#   vip-broker      the VIP broker (pgguard-vip serve) in a network namespace, as nobody in
#                   postgres' group with ambient CAP_NET_ADMIN + CAP_NET_RAW and umask 0117 (as
#                   the vip-helper profile runs it), serving up, announce, down, a refused
#                   address, a refused uid, an overlong and a late request, then SIGTERM
#   support-agent   a metrics/backup agent: bash loop running psql and pg_dump | gzip under nice
# Clients that are not sandboxed (psql, pgbench) are not traced.
#
# Usage (root): run-workloads.sh OUTDIR      then: generate-groups.py OUTDIR
# env PGGUARD_VIP: the pgguard-vip binary (default: build/src/programs/vip/pgguard-vip)
# Everything runs in /tmp/pgguard-sbtest-measure.*, ports 55632-55651, and is stopped at exit.
set -euo pipefail

[ "$(id -u)" -eq 0 ] || {
  echo "run as root" >&2
  exit 1
}
OUT=$(realpath -m "${1:?usage: $0 OUTDIR}")
mkdir -p "$OUT"
rm -f "$OUT"/*.trace

HERE=$(cd "$(dirname "$0")" && pwd)
VIP=$(realpath "${PGGUARD_VIP:-$HERE/../../../../build/src/programs/vip/pgguard-vip}")
[ -x "$VIP" ] || {
  echo "no pgguard-vip at $VIP: build it first (cmake --build build)" >&2
  exit 1
}
# shellcheck source=../lib/pg.sh
source "$HERE/../lib/pg.sh"

SB_WORK=$(mktemp -d /tmp/pgguard-sbtest-measure.XXXXXX)
chmod 755 "$SB_WORK"
SB_SOCK=$SB_WORK/run
mkdir -p "$SB_SOCK"
chown postgres:postgres "$SB_SOCK"
PORT_A=55632 PORT_B=55633 PORT_POOL=55639 PORT_PCP=55638
NETNS=pgv-measure

cleanup() {
  set +e
  sb_stop_pgpool "$SB_WORK/pgpool-run"
  for n in 0 1 2; do sb_stop_pgpool "$SB_WORK/wd$n-run"; done
  sb_stop_postgres "$SB_WORK/dataA"
  sb_stop_postgres "$SB_WORK/dataB"
  ip netns del "$NETNS" 2>/dev/null
  wait
  [ "${KEEP_WORK:-}" = 1 ] || rm -rf "$SB_WORK"
}
trap cleanup EXIT

# strace as root, tracee as postgres (strace -u), environment as the launcher would pass it.
sb_wrap() {
  local name=$1
  shift
  env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$SB_WORK" \
    strace -f -qq -u postgres -o "$OUT/$name.trace" "$@"
}

echo "== initdb"
sb_initdb "$SB_WORK/dataA"
sb_write_pg_conf "$SB_WORK/dataA" "$PORT_A"
echo "host replication postgres 127.0.0.1/32 trust" >>"$SB_WORK/dataA/pg_hba.conf"

echo "== primary: start, pgbench, SQL workload, archive_command"
sb_wrap server-primary "$SB_PGBIN/postgres" -D "$SB_WORK/dataA" >"$SB_WORK/primary.out" 2>&1 &
sb_wait_ready "$PORT_A" 60
sb_as_postgres "$SB_PGBIN/pgbench" -h "$SB_SOCK" -p "$PORT_A" -U postgres -i -s 2 -q postgres
sb_as_postgres "$SB_PGBIN/pgbench" -h "$SB_SOCK" -p "$PORT_A" -U postgres -c 4 -j 2 -T 5 postgres \
  >/dev/null
sb_as_postgres "$SB_PGBIN/pgbench" -h 127.0.0.1 -p "$PORT_A" -U postgres -S -c 2 -T 2 postgres \
  >/dev/null
sb_sql_workload "$PORT_A"
sb_wait_archived 30

echo "== pg_basebackup (plain + stream, then tar + gzip)"
install -d -o postgres -g postgres -m 700 "$SB_WORK/dataB"
sb_wrap pg_basebackup "$SB_PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PORT_A" -U postgres \
  -D "$SB_WORK/dataB" -R -X stream -c fast
mkdir -p "$SB_WORK/bbtar" && chown postgres:postgres "$SB_WORK/bbtar"
sb_wrap pg_basebackup-tar "$SB_PGBIN/pg_basebackup" -h "$SB_SOCK" -p "$PORT_A" -U postgres \
  -D "$SB_WORK/bbtar/t" -Ft -z -X fetch -c fast
sed -i "s/^port = $PORT_A/port = $PORT_B/; s/log-$PORT_A/log-$PORT_B/" "$SB_WORK/dataB/postgresql.conf"
mkdir -p "$SB_WORK/log-$PORT_B" && chown postgres:postgres "$SB_WORK/log-$PORT_B"

echo "== standby: start, stream, then pgpool against both"
sb_wrap server-standby "$SB_PGBIN/postgres" -D "$SB_WORK/dataB" >"$SB_WORK/standby.out" 2>&1 &
sb_wait_ready "$PORT_B" 60
sb_psql "$PORT_A" -c "CREATE TABLE after_backup AS SELECT 1 AS x"
for _ in $(seq 50); do
  sb_psql "$PORT_B" -Atc "SELECT count(*) FROM pg_stat_wal_receiver" | grep -q 1 && break
  sleep 0.2
done

echo "127.0.0.1:*:pcpadmin:secret" >"$SB_WORK/pcppass"
chown postgres:postgres "$SB_WORK/pcppass"
chmod 600 "$SB_WORK/pcppass"
sb_write_pgpool_conf "$SB_WORK/pgpool-conf" "$SB_WORK/pgpool-run" "$SB_WORK/pgpool-log" "$PORT_POOL" "$PORT_PCP" "$PORT_A" "$PORT_B"
# shellcheck disable=SC2046
sb_wrap pgpool "$SB_PGPOOL" $(sb_pgpool_args "$SB_WORK/pgpool-conf") >"$SB_WORK/pgpool.out" 2>&1 &
for _ in $(seq 100); do
  sb_as_postgres "$SB_PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT_POOL" && break
  sleep 0.2
done
sleep 3  # let sr_check and health checks run a few rounds
for _ in 1 2 3; do
  sb_as_postgres "$SB_PGBIN/psql" -X -h 127.0.0.1 -p "$PORT_POOL" -U postgres -d postgres -Atc \
    "SELECT count(*) FROM pgbench_accounts" >/dev/null
  sb_as_postgres "$SB_PGBIN/psql" -X -h "$SB_SOCK" -p "$PORT_POOL" -U postgres -d postgres -Atc \
    "SHOW pool_nodes" >/dev/null
done
sb_as_postgres "$SB_PGBIN/pgbench" -h 127.0.0.1 -p "$PORT_POOL" -U postgres -S -c 2 -T 3 postgres \
  >/dev/null
sb_as_postgres env PCPPASSFILE="$SB_WORK/pcppass" /usr/sbin/pcp_node_info -h 127.0.0.1 \
  -p "$PORT_PCP" -U pcpadmin -w 0 >/dev/null
sb_stop_pgpool "$SB_WORK/pgpool-run"

echo "== pgpool with the watchdog: three nodes, a leader, then a new leader"
WD_POOL=55640 WD_PCP=55643 WD_PORT=55646 WD_HEARTBEAT=55649
wd_info() {  # NODE: pcp_watchdog_info of that node
  sb_as_postgres env PCPPASSFILE="$SB_WORK/pcppass" /usr/sbin/pcp_watchdog_info -h 127.0.0.1 \
    -p $((WD_PCP + $1)) -U pcpadmin -w -v 2>/dev/null
}
for n in 0 1 2; do
  sb_write_pgpool_conf "$SB_WORK/wd$n-conf" "$SB_WORK/wd$n-run" "$SB_WORK/wd$n-log" \
    $((WD_POOL + n)) $((WD_PCP + n)) "$PORT_A" "$PORT_B"
  sb_add_watchdog "$SB_WORK/wd$n-conf" "$n" "$WD_POOL" "$WD_PORT" "$WD_HEARTBEAT"
done
# Node 0 first, untraced, until it leads (without quorum yet); then nodes 1 and 2, traced,
# join it as standbys; then node 0 stops and the two traced nodes elect a leader among
# themselves, so the traces hold joining, following, an election and leading. (Nodes started
# at the same instant, slowed down by strace, kept rejecting each other's stand for leader,
# and a traced node 0 stopped answering PCP once it led alone.)
start_wd() {
  # shellcheck disable=SC2046
  sb_wrap "pgpool-watchdog-$1" "$SB_PGPOOL" $(sb_pgpool_args "$SB_WORK/wd$1-conf") \
    >"$SB_WORK/wd$1.out" 2>&1 &
}
# shellcheck disable=SC2046
sb_as_postgres "$SB_PGPOOL" $(sb_pgpool_args "$SB_WORK/wd0-conf") >"$SB_WORK/wd0.out" 2>&1 &
for _ in $(seq 300); do
  info=$(wd_info 0) || info=
  grep -q "Leader Node Name *: 127.0.0.1:$WD_POOL " <<<"$info" && break
  sleep 0.2
done
start_wd 1
start_wd 2
leader=
for _ in $(seq 300); do
  # Until the cluster has formed, PCP may refuse or answer without a leader.
  info=$(wd_info 0) || info=
  leader=$(awk -F' *: ' '/^Leader Node Name/ {print $2}' <<<"$info")
  [ -n "$leader" ] && [ "$leader" != Not_Set ] && grep -q "Quorum state *: QUORUM EXIST" <<<"$info" && break
  sleep 0.2
done
[ -n "$leader" ] && [ "$leader" != Not_Set ] || {
  tail -n 20 "$SB_WORK"/wd?.out >&2
  echo "the watchdog cluster did not form" >&2
  exit 1
}
for n in 0 1 2; do
  sb_as_postgres "$SB_PGBIN/psql" -X -h 127.0.0.1 -p $((WD_POOL + n)) -U postgres -d postgres -Atc \
    "SELECT count(*) FROM pgbench_accounts" >/dev/null
done
sleep 3  # heartbeats, health and sr checks
sb_stop_pgpool "$SB_WORK/wd0-run"
for _ in $(seq 300); do
  info=$(wd_info 1) || info=
  new=$(awk -F' *: ' '/^Leader Node Name/ {print $2}' <<<"$info")
  [ -n "$new" ] && [ "$new" != Not_Set ] && [[ "$new" != *":$WD_POOL "* ]] && break
  sleep 0.2
done
[ -n "$new" ] && [[ "$new" != *":$WD_POOL "* ]] || {
  echo "no new leader after node 0 stopped" >&2
  exit 1
}
sleep 3  # the new leader's heartbeats and checks
for n in 0 1 2; do sb_stop_pgpool "$SB_WORK/wd$n-run"; done

echo "== promote the standby, diverge, rewind the old primary"
sb_psql "$PORT_B" -c "SELECT pg_promote()"
sb_psql "$PORT_B" -c "CREATE TABLE on_new_primary AS SELECT 2 AS y"
# pg_rewind reads the source's timeline from its control file, written by a checkpoint.
sb_psql "$PORT_B" -c "CHECKPOINT"
sb_psql "$PORT_A" -c "CREATE TABLE on_old_primary AS SELECT 3 AS z"
sb_stop_postgres "$SB_WORK/dataA"
sb_wrap pg_rewind "$SB_PGBIN/pg_rewind" -D "$SB_WORK/dataA" \
  --source-server="host=$SB_SOCK port=$PORT_B user=postgres dbname=postgres" -P \
  >"$SB_WORK/rewind.out" 2>&1
grep -q "Done!" "$SB_WORK/rewind.out" || {
  cat "$SB_WORK/rewind.out" >&2
  echo "pg_rewind did not rewind" >&2
  exit 1
}

echo "== support agent (metrics + backup through psql/pg_dump/gzip)"
mkdir -p "$SB_WORK/agent" && chown postgres:postgres "$SB_WORK/agent"
cat >"$SB_WORK/agent/agent.sh" <<EOF
#!/bin/bash
set -e
for i in 1 2 3; do
  $SB_PGBIN/psql -X -h $SB_SOCK -p $PORT_B -U postgres -d postgres -Atc \
    "SELECT now(), sum(xact_commit) FROM pg_stat_database" >>$SB_WORK/agent/metrics.txt
  $SB_PGBIN/pg_dump -h $SB_SOCK -p $PORT_B -U postgres -d postgres -t pgbench_branches \
    | gzip -c >$SB_WORK/agent/dump.\$i.sql.gz
  sleep 0.2
done
EOF
chmod 755 "$SB_WORK/agent/agent.sh"
# nice itself is left out: the launcher sets the priority before the filter is loaded.
sb_wrap support-agent /bin/bash "$SB_WORK/agent/agent.sh"
sb_stop_postgres "$SB_WORK/dataB"
wait

echo "== VIP broker: pgguard-vip serve in netns $NETNS"
ip netns add "$NETNS"
ip netns exec "$NETNS" ip link add pgv-vip0 type veth peer name pgv-vip1
ip netns exec "$NETNS" ip link set lo up
ip netns exec "$NETNS" ip link set pgv-vip0 up
ip netns exec "$NETNS" ip link set pgv-vip1 up
install -d -o nobody -g postgres -m 750 "$SB_WORK/vip-run"
# The broker binary where both users can execute it (the build tree may not be).
install -m 755 "$VIP" "$SB_WORK/pgguard-vip"
printf 'address = 198.18.0.10/24\ninterface = pgv-vip0\nsocket = %s\nclient = postgres\n' \
  "$SB_WORK/vip-run/vip.sock" >"$SB_WORK/vip.conf"
# As the vip-helper profile runs it: an unprivileged user (here nobody, in the client's group)
# holding CAP_NET_ADMIN + CAP_NET_RAW as ambient capabilities, umask 0117.
ip netns exec "$NETNS" env -i PATH=/usr/sbin:/usr/bin:/bin strace -f -qq -o "$OUT/vip-broker.trace" \
  setpriv --reuid=nobody --regid=postgres --clear-groups --inh-caps=+net_admin,+net_raw \
  --ambient-caps=+net_admin,+net_raw /bin/sh -c 'umask 0117 && exec "$0" serve --config "$1"' \
  "$SB_WORK/pgguard-vip" "$SB_WORK/vip.conf" 2>"$SB_WORK/vip-broker.log" &
TRACER=$!  # ip netns exec, env and strace exec in place: strace's pid; the broker is its child
for _ in $(seq 100); do [ -S "$SB_WORK/vip-run/vip.sock" ] && break; sleep 0.1; done
vip_client() {  # USER REQUEST ADDRESS
  ip netns exec "$NETNS" setpriv --reuid="$1" --regid=postgres --clear-groups \
    "$SB_WORK/pgguard-vip" --socket "$SB_WORK/vip-run/vip.sock" "$2" "$3" || true
}
vip_client postgres up 198.18.0.10
vip_client postgres up 198.18.0.10
vip_client postgres announce 198.18.0.10
vip_client postgres up 198.18.0.11
vip_client daemon up 198.18.0.10
ip netns exec "$NETNS" setpriv --reuid=postgres --regid=postgres --clear-groups /usr/bin/python3 -c '
import socket, sys, time
overlong = socket.socket(socket.AF_UNIX)
overlong.connect(sys.argv[1])
overlong.sendall(b"x" * 100)
overlong.recv(200)
late = socket.socket(socket.AF_UNIX)
late.connect(sys.argv[1])
time.sleep(2.5)
late.recv(200)
' "$SB_WORK/vip-run/vip.sock"
vip_client postgres down 198.18.0.10
vip_client postgres down 198.18.0.10
kill -TERM "$(pgrep -P "$TRACER")"
wait "$TRACER"
cat "$SB_WORK/vip-broker.log"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "kernel: $(uname -r)"
  echo "glibc: $(ldd --version | head -1)"
  echo "postgres: $("$SB_PGBIN/postgres" --version)"
  echo "pgpool: $("$SB_PGPOOL" --version 2>&1 | head -1)"
  echo "strace: $(strace -V | head -1)"
} >"$OUT/versions.txt"
cat "$OUT/versions.txt"
ls -la "$OUT"
