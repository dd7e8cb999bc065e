# shellcheck shell=bash
# PostgreSQL 15 and pgpool-II 4.3 helpers shared by the sandbox tests, the syscall
# measurement (measure/run-workloads.sh) and the benchmark (bench/sandbox/run.sh).
# The same workloads must drive all three, or the measured syscall lists stop matching
# what the tests check.
#
# Callers set:
#   SB_WORK    a temp dir (owned by root, mode 755); clusters live below it
#   SB_SOCK    the unix socket dir (writable by postgres)
# Layout below SB_WORK: archive/ (archive_command), scratch/ (COPY files, tablespaces),
# log-PORT/ (server logs); pgpool gets separate conf, run and log dirs, because Landlock
# refuses a writable dir beneath a read-only one.
# Programs that run "under something" (strace for measuring, pgguard-launch for testing)
# are started through the caller's function `sb_wrap NAME CMD...`, which must exec CMD as
# the postgres user.

SB_PGBIN=${SB_PGBIN:-/usr/lib/postgresql/15/bin}
SB_PGPOOL=${SB_PGPOOL:-/usr/sbin/pgpool}

# Run a command as postgres with a minimal environment (no sandbox).
sb_as_postgres() {
  setpriv --reuid=postgres --regid=postgres --init-groups -- \
    env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$SB_WORK" "$@"
}

sb_psql() {  # sb_psql PORT SQL...: psql as postgres over the unix socket, stop on error
  local port=$1
  shift
  sb_as_postgres "$SB_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SB_SOCK" -p "$port" \
    -U postgres -d postgres "$@"
}

# Append the settings every cluster here uses. Data checksums come from initdb -k (pg_rewind
# needs them or wal_log_hints).
sb_write_pg_conf() {  # DATA PORT
  local data=$1 port=$2
  mkdir -p "$SB_WORK/archive" "$SB_WORK/scratch/copy" "$SB_WORK/log-$port"
  chown postgres:postgres "$SB_WORK/archive" "$SB_WORK/scratch" "$SB_WORK/scratch/copy" \
    "$SB_WORK/log-$port"
  cat >>"$data/postgresql.conf" <<EOF
# --- pgguard sandbox test settings ---
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SB_SOCK'
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
wal_log_hints = on
hot_standby = on
archive_mode = on
archive_command = 'test ! -f $SB_WORK/archive/%f && cp %p $SB_WORK/archive/%f'
logging_collector = on
log_directory = '$SB_WORK/log-$port'
log_filename = 'postgresql.log'
log_temp_files = 0
log_min_messages = warning
shared_preload_libraries = 'pg_stat_statements'
max_parallel_workers_per_gather = 2
jit = on
autovacuum_naptime = 1
shared_buffers = 32MB
EOF
}

sb_initdb() {  # DATA: initdb run through sb_wrap "initdb"
  local data=$1
  install -d -o postgres -g postgres -m 700 "$data"
  sb_wrap initdb "$SB_PGBIN/initdb" -D "$data" -U postgres --auth=trust -k \
    --locale=C.UTF-8 -E UTF8 >"$SB_WORK/initdb-$(basename "$data").log" 2>&1
}

sb_wait_ready() {  # PORT [SECONDS]
  local port=$1 tries=$((${2:-30} * 5))
  while ((tries-- > 0)); do
    if sb_as_postgres "$SB_PGBIN/pg_isready" -q -h "$SB_SOCK" -p "$port"; then
      return 0
    fi
    sleep 0.2
  done
  echo "postgres on port $port did not become ready" >&2
  return 1
}

sb_postmaster_pid() {  # DATA
  head -1 "$1/postmaster.pid" 2>/dev/null
}

# Fast shutdown (SIGINT), and wait for the postmaster to be gone.
sb_stop_postgres() {  # DATA
  local data=$1 pid tries=150
  pid=$(sb_postmaster_pid "$data") || return 0
  [ -n "$pid" ] || return 0
  kill -INT "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((tries-- > 0)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -QUIT "$pid" 2>/dev/null || true
    sleep 1
  fi
}

# The broad SQL workload: parallel query, JIT, temp-file sort and hash, COPY to/from a file and
# a program, tablespace, CREATE DATABASE, ALTER SYSTEM + reload, large objects, LISTEN/NOTIFY,
# WAL switch so archive_command runs. Fails (non-zero) if any statement fails or if parallel
# workers, JIT or temp files were not actually used.
sb_sql_workload() {  # PORT
  local port=$1 out
  mkdir -p "$SB_WORK/scratch/tblspc-$port"
  chown postgres:postgres "$SB_WORK/scratch/tblspc-$port"
  out=$(sb_psql "$port" -At <<EOF
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
DROP TABLE IF EXISTS big, big2;
CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 200000) g;
ANALYZE big;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) SELECT count(*), sum(length(t)) FROM big;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
-- COSTS must stay on: EXPLAIN prints the JIT summary only with costs.
SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = 0; SET jit_optimize_above_cost = 0;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(id * 2 + length(t)) FROM big WHERE id % 7 = 3;
RESET jit_above_cost; RESET jit_inline_above_cost; RESET jit_optimize_above_cost;
SET work_mem = '64kB';
SELECT 'sorted:' || t FROM big ORDER BY t OFFSET 100000 LIMIT 1;
SELECT 'hashed:' || count(*) FROM big a JOIN big b USING (t);
RESET work_mem;
CREATE INDEX big_t ON big (t);
COPY big TO '$SB_WORK/scratch/copy/big-$port.csv' CSV;
CREATE TABLE big2 (LIKE big);
COPY big2 FROM '$SB_WORK/scratch/copy/big-$port.csv' CSV;
COPY (SELECT * FROM big LIMIT 5000) TO PROGRAM 'gzip -c > $SB_WORK/scratch/copy/big-$port.csv.gz' CSV;
TRUNCATE big2;
COPY big2 FROM PROGRAM 'gzip -dc $SB_WORK/scratch/copy/big-$port.csv.gz' CSV;
SELECT 'copied:' || count(*) FROM big2;
CREATE TEMP TABLE tmp_big AS SELECT * FROM big LIMIT 20000;
SELECT 'temp:' || count(*) FROM tmp_big;
CREATE TABLESPACE ts_$port LOCATION '$SB_WORK/scratch/tblspc-$port';
CREATE TABLE in_ts TABLESPACE ts_$port AS SELECT * FROM big LIMIT 1000;
DROP TABLE in_ts;
DROP TABLESPACE ts_$port;
DROP DATABASE IF EXISTS scratch;
CREATE DATABASE scratch;
DROP DATABASE scratch;
ALTER SYSTEM SET log_min_duration_statement = 10000;
SELECT pg_reload_conf();
SELECT 'lo:' || lo_unlink(lo_import('$SB_WORK/scratch/copy/big-$port.csv'));
LISTEN pgguard; NOTIFY pgguard, 'hello';
VACUUM (ANALYZE) big2;
DROP TABLE big2;
SELECT pg_switch_wal() IS NOT NULL;
CHECKPOINT;
SELECT 'tempfiles:' || temp_files FROM pg_stat_database WHERE datname = current_database();
EOF
  ) || return 1
  printf '%s\n' "$out" >"$SB_WORK/workload-$port.out"
  # The plans prove the features were really used (a silent fallback would hide a denial).
  grep -q '"Workers Launched": [12]' <<<"$out" || {
    echo "workload: no parallel workers launched" >&2
    return 1
  }
  if [ -f "$SB_PGBIN/../lib/llvmjit.so" ]; then
    grep -q '"JIT":' <<<"$out" || {
      echo "workload: JIT was not used" >&2
      return 1
    }
  fi
  grep -q '^copied:5000$' <<<"$out" || {
    echo "workload: COPY FROM PROGRAM did not load 5000 rows" >&2
    return 1
  }
  grep -qE '^tempfiles:[1-9]' <<<"$out" || {
    echo "workload: no temp files were written" >&2
    return 1
  }
  return 0
}

# Wait until archive_command has archived at least one segment.
sb_wait_archived() {  # SECONDS
  local tries=$((${1:-30} * 5))
  while ((tries-- > 0)); do
    if compgen -G "$SB_WORK/archive/0000*" >/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "archive_command archived nothing" >&2
  return 1
}

# pgpool-II 4.3 configuration: streaming replication mode, watchdog off, loopback only.
# CONF holds pgpool.conf, pool_hba.conf, pcp.conf (read-only for pgpool); RUN the pid file
# and memqcache oid dir; LOG the status file.
sb_write_pgpool_conf() {  # CONF RUN LOG PORT PCP_PORT BACKEND_PORT [BACKEND_PORT2]
  local conf=$1 run=$2 log=$3 port=$4 pcp_port=$5 b0=$6 b1=${7:-}
  mkdir -p "$conf" "$run" "$log"
  cat >"$conf/pgpool.conf" <<EOF
backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = $port
socket_dir = '$SB_SOCK'
pcp_listen_addresses = '127.0.0.1'
pcp_port = $pcp_port
pcp_socket_dir = '$SB_SOCK'
wd_ipc_socket_dir = '$SB_SOCK'
use_watchdog = off
backend_hostname0 = '127.0.0.1'
backend_port0 = $b0
backend_weight0 = 1
backend_flag0 = 'ALLOW_TO_FAILOVER'
EOF
  if [ -n "$b1" ]; then
    cat >>"$conf/pgpool.conf" <<EOF
backend_hostname1 = '127.0.0.1'
backend_port1 = $b1
backend_weight1 = 1
backend_flag1 = 'ALLOW_TO_FAILOVER'
EOF
  fi
  cat >>"$conf/pgpool.conf" <<EOF
enable_pool_hba = on
pool_passwd = ''
pid_file_name = '$run/pgpool.pid'
logdir = '$log'
memqcache_oiddir = '$run/oiddir'
log_destination = 'stderr'
num_init_children = 4
max_pool = 2
child_life_time = 300
sr_check_period = 1
sr_check_user = 'postgres'
health_check_period = 1
health_check_user = 'postgres'
health_check_max_retries = 0
load_balance_mode = on
failover_on_backend_error = off
EOF
  cat >"$conf/pool_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  echo "pcpadmin:$(echo -n secret | md5sum | cut -d' ' -f1)" >"$conf/pcp.conf"
  chmod 755 "$conf"
  chmod 644 "$conf"/*
  chown -R postgres:postgres "$run" "$log"
}

# sb_add_watchdog CONF NODE_ID POOL_BASE WD_BASE HEARTBEAT_BASE: turns a pgpool.conf written by
# sb_write_pgpool_conf into node NODE_ID of a three-node watchdog cluster on 127.0.0.1 (node n
# uses ports POOL_BASE+n, WD_BASE+n, HEARTBEAT_BASE+n), as production runs it: heartbeat
# lifecheck, quorum and consensus for failover, no VIP, no heartbeat device (needs root).
sb_add_watchdog() {
  local conf=$1 id=$2 pool=$3 wd=$4 heartbeat=$5 n
  sed -i '/^use_watchdog = off$/d' "$conf/pgpool.conf"
  {
    echo "use_watchdog = on"
    for n in 0 1 2; do
      echo "hostname$n = '127.0.0.1'"
      echo "wd_port$n = $((wd + n))"
      echo "pgpool_port$n = $((pool + n))"
      echo "heartbeat_hostname$n = '127.0.0.1'"
      echo "heartbeat_port$n = $((heartbeat + n))"
      echo "heartbeat_device$n = ''"
    done
    echo "wd_lifecheck_method = 'heartbeat'"
    echo "wd_interval = 1"
    echo "wd_heartbeat_keepalive = 1"
    echo "wd_heartbeat_deadtime = 4"
    echo "delegate_ip = ''"
    echo "failover_when_quorum_exists = on"
    echo "failover_require_consensus = on"
  } >>"$conf/pgpool.conf"
  echo "$id" >"$conf/pgpool_node_id"
  chmod 644 "$conf/pgpool_node_id"
}

sb_pgpool_args() {  # CONF: the arguments to start pgpool in the foreground
  echo "-n -f $1/pgpool.conf -a $1/pool_hba.conf -F $1/pcp.conf"
}

sb_stop_pgpool() {  # RUN
  local pid tries=100
  pid=$(tr -d '\0' <"$1/pgpool.pid" 2>/dev/null | head -1) || return 0
  [ -n "$pid" ] || return 0
  kill -INT "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((tries-- > 0)); do sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
