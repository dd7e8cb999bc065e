# shellcheck shell=bash
# Shared set-up of the sandbox integration tests: prerequisites, a temp dir under
# /tmp/pgguard-sbtest-*, cleanup on every exit, and pass/fail bookkeeping.
# A test checks every prerequisite (sb_setup, sb_require_*, require_*) before its first step:
# the first sb_pass or sb_fail marks the steps as begun (require_steps_begun), after which a
# missing prerequisite fails the test instead of turning what was recorded into a skip.
SB_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../../../lib/require.sh
source "$SB_TESTS/../../lib/require.sh"
# shellcheck source=pg.sh
source "$SB_TESTS/lib/pg.sh"
# shellcheck source=render.sh
source "$SB_TESTS/lib/render.sh"
# shellcheck disable=SC2034 # used by the test scripts that source this file
SB_PROFILES=$SB_TESTS/../../../src/profiles

SB_CLEANUPS=()
sb_on_exit() { SB_CLEANUPS+=("$*"); }
sb_run_cleanups() {
  local i
  for ((i = ${#SB_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${SB_CLEANUPS[i]}" >/dev/null 2>&1 || true
  done
}
trap sb_run_cleanups EXIT

SB_FAILURES=0
sb_fail() {
  echo "FAIL: $*" >&2
  SB_FAILURES=$((SB_FAILURES + 1))
  require_steps_begun "$*"
}
sb_pass() {
  echo "ok: $*"
  require_steps_begun "$*"
}
sb_check() {  # DESCRIPTION COMMAND...: pass if COMMAND succeeds
  local what=$1
  shift
  if "$@"; then sb_pass "$what"; else sb_fail "$what"; fi
}
sb_finish() {
  if ((SB_FAILURES > 0)); then
    echo "$SB_FAILURES check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
  exit 0
}

# sb_setup LAUNCHER: check prerequisites, make the work dir.
# sb_own_ipc_namespace ARGS...: runs the calling script again, once, in an IPC namespace of
# its own. The System V shared memory of the PostgreSQL and pgpool processes it starts (pgpool's
# is over 100 MB a node) then goes with the test, even where a process killed with SIGKILL could
# not remove it: the host's IPC namespace is never touched.
sb_own_ipc_namespace() {
  [ -n "${SB_OWN_IPC_NAMESPACE:-}" ] && return 0
  SB_OWN_IPC_NAMESPACE=1 exec unshare --ipc -- "$0" "$@"
}

sb_setup() {
  SB_LAUNCH=${1:?usage: $0 PGGUARD_LAUNCH ...}
  require_root
  [ -x "$SB_LAUNCH" ] || missing_prerequisite "launcher $SB_LAUNCH (build pgguard-launch)"
  getent passwd postgres >/dev/null || missing_prerequisite "user postgres (apt-get install postgresql-15)"
  SB_WORK=$(mktemp -d /tmp/pgguard-sbtest-XXXXXX)
  chmod 755 "$SB_WORK"
  sb_on_exit "rm -rf '$SB_WORK'"
  SB_SOCK=$SB_WORK/run
  install -d -o postgres -g postgres -m 755 "$SB_WORK/run"
  # Every process the test starts as postgres inherits the working directory: not the build
  # tree, which may sit under a directory postgres cannot enter (libpq tools then warn "could
  # not change directory", which the denial checks rightly count).
  cd "$SB_WORK" || exit 1
}

# sb_kill_leftovers DIR: kills every process whose working directory is under DIR. pgpool's
# children (lifecheck, heartbeat) can outlive a main process that died on a FATAL error, and
# they renamed themselves, so neither their parent nor their command line finds them; the
# profiles' workdir does.
sb_kill_leftovers() {
  local dir=$1 proc cwd
  for proc in /proc/[0-9]*; do
    cwd=$(readlink "$proc/cwd" 2>/dev/null) || continue
    [[ "$cwd" == "$dir"/* ]] && kill -KILL "${proc#/proc/}" 2>/dev/null
  done
  return 0
}

# sb_start_backend DATA PORT: a PostgreSQL 15 backend for the pgpool tests, initialised and
# started under the initdb and server profiles (rendered to $SB_WORK/initdb.conf and
# $SB_WORK/server.conf, dirs under $SB_WORK), stopped at exit. Records the failure and returns
# 1 when it cannot start.
sb_start_backend() {
  local data=$1 port=$2
  mkdir -p "$SB_WORK/conf" "$SB_WORK/scratch" "$SB_WORK/archive" "$SB_WORK/log-$port"
  chown postgres:postgres "$SB_WORK/scratch" "$SB_WORK/archive" "$SB_WORK/log-$port"
  if ! sb_render "$SB_PROFILES/initdb.conf.in" "$SB_WORK/initdb.conf" USER=postgres \
    GROUP=postgres DATA_DIR="$data" ||
    ! sb_render "$SB_PROFILES/postgres-server.conf.in" "$SB_WORK/server.conf" USER=postgres \
      GROUP=postgres DATA_DIR="$data" SOCKET_DIR="$SB_SOCK" LOG_DIR="$SB_WORK/log-$port" \
      ARCHIVE_DIR="$SB_WORK/archive" SCRATCH_DIR="$SB_WORK/scratch" CONF_DIR="$SB_WORK/conf" \
      PORT="$port" CONNECT_PORTS="$port"; then
    sb_fail "render the backend's profiles"
    return 1
  fi
  sb_wrap() {
    shift
    "$SB_LAUNCH" run --profile "$SB_WORK/initdb.conf" -- "$@"
  }
  if ! sb_initdb "$data"; then
    cat "$SB_WORK/initdb-data.log" >&2
    sb_fail "initdb"
    return 1
  fi
  sb_write_pg_conf "$data" "$port"
  "$SB_LAUNCH" run --profile "$SB_WORK/server.conf" -- "$SB_PGBIN/postgres" -D "$data" \
    >"$SB_WORK/server.out" 2>&1 &
  sb_on_exit "sb_stop_postgres '$data'"
  sb_wait_ready "$port" 60 || {
    sb_fail "backend did not start"
    return 1
  }
}

sb_require_postgres() {
  [ -x "$SB_PGBIN/postgres" ] || missing_prerequisite "PostgreSQL 15 ($SB_PGBIN/postgres)"
}
sb_require_pgpool() {
  [ -x "$SB_PGPOOL" ] || missing_prerequisite "pgpool-II ($SB_PGPOOL; apt-get install pgpool2)"
}
# The staging runs read seccomp LOG records from the kernel log (sb_seccomp_logged).
sb_require_kernel_log() {
  dmesg >/dev/null 2>&1 || missing_prerequisite "reading the kernel log (dmesg) for seccomp LOG records"
}

# Expected /proc/PID/status of an unprivileged, fully sandboxed process.
sb_status_value() {  # PID KEY
  awk -v key="$2:" '$1 == key { $1 = ""; sub(/^ +/, ""); gsub(/\t/, " "); print }' "/proc/$1/status"
}
sb_limit() {  # PID "Max open files": prints "soft hard"
  awk -v name="$2" 'index($0, name) == 1 { rest = substr($0, length(name) + 1); split(rest, f, " +"); n = 0;
    for (i in f) if (f[i] != "") v[++n] = f[i]; print v[1], v[2] }' "/proc/$1/limits"
}
sb_check_sandboxed() {  # WHAT PID UID GID CAPS_HEX(16 digits, e.g. 0000000000000000)
  local what=$1 pid=$2 uid=$3 gid=$4 caps=${5:-0000000000000000} key value
  [ -r "/proc/$pid/status" ] || {
    sb_fail "$what: pid $pid is gone"
    return
  }
  value=$(sb_status_value "$pid" Uid)
  [ "$value" = "$uid $uid $uid $uid" ] || sb_fail "$what: Uid is '$value', expected all $uid"
  value=$(sb_status_value "$pid" Gid)
  [ "$value" = "$gid $gid $gid $gid" ] || sb_fail "$what: Gid is '$value', expected all $gid"
  [ "$uid" -ne 0 ] && [ "$gid" -ne 0 ] || sb_fail "$what: uid or gid is 0"
  value=$(sb_status_value "$pid" Groups)
  [ -z "$value" ] || sb_fail "$what: supplementary groups '$value', expected none"
  for key in CapInh CapPrm CapEff CapBnd CapAmb; do
    value=$(sb_status_value "$pid" "$key")
    [ "$value" = "$caps" ] || sb_fail "$what: $key is $value, expected $caps"
  done
  value=$(sb_status_value "$pid" NoNewPrivs)
  [ "$value" = 1 ] || sb_fail "$what: NoNewPrivs is '$value', expected 1"
  value=$(sb_status_value "$pid" Seccomp)
  [ "$value" = 2 ] || sb_fail "$what: Seccomp is '$value', expected 2 (filter)"
  sb_pass "$what (pid $pid): uid $uid gid $gid, caps $caps in all five sets, NoNewPrivs 1, Seccomp 2"
}
sb_check_limit() {  # WHAT PID "Max open files" "SOFT HARD"
  local value
  value=$(sb_limit "$2" "$3")
  if [ "$value" = "$4" ]; then
    sb_pass "$1 (pid $2): $3 = $value"
  else
    sb_fail "$1 (pid $2): $3 is '$value', expected '$4'"
  fi
}
# Lines a sandbox denial leaves in a log: EPERM/EACCES texts and SIGSYS deaths.
sb_denial_lines() {  # FILE...
  grep -hiE 'permission denied|operation not permitted|bad system call|signal 31|SIGSYS' "$@" || true
}

# Seccomp LOG records (audit type 1326) reach the kernel log when no audit daemon runs.
# The ring buffer wraps, so a mark is the timestamp of the last line, not a line count.
# sb_kmsg_mark prints it; sb_seccomp_logged MARK UID prints "count syscall-name (nr) comm"
# for every record of UID after MARK.
sb_kmsg_mark() { dmesg 2>/dev/null | tail -1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
sb_syscall_name() {  # NUMBER
  awk -v nr="$1" '$1 == "#define" && $3 == nr { sub(/^__NR_/, "", $2); print $2; exit }' \
    /usr/include/x86_64-linux-gnu/asm/unistd_64.h
}
sb_seccomp_logged() {  # MARK UID
  local line number
  sleep 1  # kauditd prints asynchronously
  dmesg 2>/dev/null | awk -v mark="${1:-0}" '{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t);
      if (t + 0 > mark + 0) print }' | grep 'type=1326' | grep " uid=$2 " |
    while read -r line; do
      number=$(sed -n 's/.* syscall=\([0-9]*\) .*/\1/p' <<<"$line")
      echo "$(sb_syscall_name "$number") (nr $number) $(grep -o 'comm="[^"]*"' <<<"$line")"
    done | sort | uniq -c
}
