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
  [ -z "${SB_LANDLOCK_ABI:-}" ] || sb_lower_landlock_abi "$SB_LANDLOCK_ABI"
  # Every process the test starts as postgres inherits the working directory: not the build
  # tree, which may sit under a directory postgres cannot enter (libpq tools then warn "could
  # not change directory", which the denial checks rightly count).
  cd "$SB_WORK" || exit 1
}

# sb_lower_landlock_abi N: every launch of the test handles only Landlock ABI N's rights
# (`--landlock-abi N`), to run the real programs as an older stemcell kernel confines them
# (Jammy: 1, Noble: 4). The wrapper adds the option to run, explain and check; explain must
# then report ABI N with the option's notice, or the test stops here.
sb_lower_landlock_abi() {
  local abi=$1 real=$SB_LAUNCH
  # Profiles keep naming the real program's directory as the pgguard package (render.sh).
  SB_PGGUARD_DIR=$(dirname "$(dirname "$real")")
  SB_LAUNCH=$SB_WORK/pgguard-launch-abi$abi
  cat >"$SB_LAUNCH" <<WRAPPER
#!/bin/sh
command=\$1
shift
case "\$command" in
run | explain | check) exec "$real" "\$command" --landlock-abi $abi "\$@" ;;
*) exec "$real" "\$command" "\$@" ;;
esac
WRAPPER
  chmod 755 "$SB_LAUNCH"
  printf 'user = postgres\n[seccomp]\ngroup = base\n[landlock]\nread = /etc\n' >"$SB_WORK/abi.profile"
  local explained
  explained=$("$SB_LAUNCH" explain --profile "$SB_WORK/abi.profile" 2>&1)
  grep -q "^landlock (kernel ABI $abi;" <<<"$explained" &&
    grep -q "notice: --landlock-abi $abi: only Landlock ABI $abi's rights are handled" <<<"$explained" ||
    {
      sb_fail "--landlock-abi $abi did not take effect: $explained"
      sb_finish
    }
  echo "every launch handles only Landlock ABI $abi's rights (this kernel: $("$real" check --profile "$SB_WORK/abi.profile" | sed -n 's/.*Landlock ABI \([0-9]*\).*/\1/p'))"
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
# for every record of UID after MARK, and a "NO SOURCE" line when its own control record
# cannot be found there: an empty output means no record, never no way to read them.
# The kernel prints audit records through printk_ratelimit (10 per 5 s window): records beyond
# that are dropped, and only the first line of the next window says so ("N callbacks
# suppressed"). So sb_kmsg_mark waits until the last window has closed (5.5 s after the last
# audit line), then logs one control record (sb_log_control), which prints any pending
# "suppressed" line before it and opens a window of its own; the mark is that record. A
# "suppressed" line after the mark is then a loss after the mark, and sb_seccomp_logged reports
# it. Its own control record, logged last, proves the records can be read at all.
sb_log_control() {  # USER: one seccomp LOG record, comm "pgguard-logctl", syscall uname
  install -d -m 755 "$SB_WORK/log-control"
  install -m 755 /usr/bin/uname "$SB_WORK/log-control/pgguard-logctl"
  printf 'user = %s\n[seccomp]\ngroup = base\ndefault_action = log\nstaging = true\n[landlock]\nexecute = /usr\nexecute = %s\nread = /etc\n' \
    "$1" "$SB_WORK/log-control" >"$SB_WORK/log-control-$1.profile"
  "$SB_LAUNCH" run --profile "$SB_WORK/log-control-$1.profile" -- \
    "$SB_WORK/log-control/pgguard-logctl" -s >/dev/null 2>&1
  sleep 1  # kauditd prints asynchronously
}
sb_kmsg_mark() {
  local last now
  for _ in $(seq 60); do
    last=$(dmesg 2>/dev/null | grep -E 'audit: type=|kauditd_printk_skb' | tail -1 |
      sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
    now=$(cut -d' ' -f1 /proc/uptime)
    awk -v last="${last:-0}" -v now="$now" 'BEGIN { exit !(now - last > 5.5) }' && break
    sleep 0.2
  done
  sb_log_control nobody
  dmesg 2>/dev/null | tail -1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'
}
sb_syscall_name() {  # NUMBER
  awk -v nr="$1" '$1 == "#define" && $3 == nr { sub(/^__NR_/, "", $2); print $2; exit }' \
    /usr/include/x86_64-linux-gnu/asm/unistd_64.h
}
sb_seccomp_logged() {  # MARK UID
  local line number records since_mark
  # The control, last: its record must be found where the workload's are read. If not (an
  # audit daemon takes the records, dmesg is restricted, the buffer wrapped), an empty result
  # would prove nothing, so a line saying so is printed and the caller's check fails on it.
  sb_log_control "$(getent passwd "$2" | cut -d: -f1)"
  since_mark=$(dmesg 2>/dev/null | awk -v mark="${1:-0}" '{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t);
      if (t + 0 > mark + 0) print }')
  records=$(grep 'type=1326' <<<"$since_mark" | grep " uid=$2 ")
  if grep -q 'kauditd_printk_skb: .* callbacks suppressed' <<<"$since_mark"; then
    echo "SECCOMP RECORDS LOST after mark $1: $(grep -o 'kauditd_printk_skb: .*' <<<"$since_mark" | head -1) (the kernel's printk rate limit): what they were cannot be told"
  fi
  if ! grep -q 'comm="pgguard-logctl"' <<<"$records"; then
    echo "NO SOURCE OF SECCOMP RECORDS: the control's record (uname by pgguard-logctl, uid $2) is not in the kernel log after mark $1; is an audit daemon taking them (then see /var/log/audit/audit.log)?"
  fi
  grep -v 'comm="pgguard-logctl"' <<<"$records" | grep 'type=1326' |
    while read -r line; do
      number=$(sed -n 's/.* syscall=\([0-9]*\) .*/\1/p' <<<"$line")
      echo "$(sb_syscall_name "$number") (nr $number) $(grep -o 'comm="[^"]*"' <<<"$line")"
    done | sort | uniq -c
}
