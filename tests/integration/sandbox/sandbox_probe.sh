#!/bin/bash
# The probe (probe.cpp) under EACH shipped profile attempts every forbidden operation:
#   - each syscall of the always-killed list, x32 and int 0x80 entry: the process must die
#     of SIGSYS (one launch per attempt, so profiles without fork are covered too); the probe
#     takes the list from the launcher's source, and explain must show the same names;
#   - setuid(0) and friends, capset/ambient raise/securebits/no_new_privs, raising hard
#     rlimits and the priority, namespace flags on clone and clone3, writes outside the
#     allowed dirs, bind and connect to a TCP port outside the profile (a listener waits
#     there, so only a policy can refuse): each must fail (probe's own tally);
#   - writes of every kind (open for writing, truncate, create, mkdir, mkfifo, symlink, link,
#     rename, rmdir, unlink) in a directory the profile names only as `read =`, which the
#     profile's user owns with owner write permission: file permissions allow each of them (a
#     control run outside the sandbox proves it), so only Landlock's read-only rule can refuse
#     them, where a root-owned directory would hide a rule that grants write rights;
#   - exec of a setuid-root copy and of a file-capability copy of the probe: neither may
#     gain uid 0 or any capability beyond the profile's ambient set;
#   - W^X: exec of a copy of the probe placed in each directory the profile may write (the
#     same copy runs outside the sandbox as the profile's user: only Landlock refuses it);
#   - socket(2) of each family a profile must not get by accident (netlink protocols, packet,
#     vsock, crypto, key): where it opens outside the sandbox as the profile's user (the
#     control), it must be refused under the profile unless explain's `socket:` rules name it,
#     and a family they name must open;
#   - a signal to, and a connection to an abstract unix socket of, a process of the same
#     user outside the sandbox: refused exactly where explain says the profile's Landlock
#     scope covers it, and allowed (as the control) where explain says only the account does.
# Prints "attempts N, denied M" and fails if any attempt succeeded.
# Usage: sandbox_probe.sh PGGUARD_LAUNCH PROBE
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_setup "$1"
PROBE_BIN=${2:?usage: $0 PGGUARD_LAUNCH PROBE}
[ -x "$PROBE_BIN" ] || missing_prerequisite "probe binary $PROBE_BIN"
require_command setcap getcap setpriv /usr/bin/python3

BIND_PORT=55499     # in no profile
CONNECT_PORT=55498  # in no profile; a root listener waits there
PROBE_DIR=$SB_WORK/probe
OUTSIDE=$SB_WORK/outside  # world-writable: only Landlock can refuse a write here
mkdir -p "$PROBE_DIR" "$OUTSIDE"
chmod 755 "$PROBE_DIR"
chmod 1777 "$OUTSIDE"
install -m 755 "$PROBE_BIN" "$PROBE_DIR/probe"
install -m 4755 -o root "$PROBE_BIN" "$PROBE_DIR/probe-setuid"
# +ep: the kernel refuses the exec (EPERM) when the bounding set cannot supply every file
# capability; +p: the exec succeeds and no_new_privs and the bounding set must keep the
# capabilities out. Either way no capability may be gained.
install -m 755 "$PROBE_BIN" "$PROBE_DIR/probe-filecaps"
install -m 755 "$PROBE_BIN" "$PROBE_DIR/probe-filecaps-p"
setcap 'cap_sys_admin,cap_net_admin,cap_dac_override+ep' "$PROBE_DIR/probe-filecaps" &&
  setcap 'cap_sys_admin,cap_dac_override,cap_setuid+p' "$PROBE_DIR/probe-filecaps-p" ||
  missing_prerequisite "file capabilities on $SB_WORK's filesystem"
getcap "$PROBE_DIR/probe-filecaps" | grep -q cap_sys_admin ||
  missing_prerequisite "file capabilities on $SB_WORK's filesystem"

/usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
while True:
    c, _ = s.accept(); c.close()
' "$CONNECT_PORT" &
LISTENER=$!
sb_on_exit "kill $LISTENER"

# Every profile template, rendered with dirs of its own; the probe dir (root's) and a dir of the
# profile's user (readonly/, see reset_read_only) are added as read-only.
declare -A PROFILE_USER=([vip-helper]=nobody [support-agent]=nobody)
declare -A PROFILE_CAPS=([vip-helper]=0000000000003000)  # CAP_NET_ADMIN | CAP_NET_RAW
# The pgguard package as the templates name it (@PGGUARD_DIR@/bin/pgguard-vip, the VIP
# broker's program, and bin/pgguard-fence, the fence's; any file will do for the probe, which
# runs in their place).
install -d -m 755 "$SB_WORK/pgguard" "$SB_WORK/pgguard/bin"
install -m 755 "$PROBE_BIN" "$SB_WORK/pgguard/bin/pgguard-vip"
install -m 755 "$PROBE_BIN" "$SB_WORK/pgguard/bin/pgguard-fence"
# reset_read_only DIR USER: the read-only target as the probe expects it, owned by USER with
# owner write permission: DIR (0755) holding `file` (0644, not empty) and the empty `subdir`.
reset_read_only() {
  local dir=$1 user=$2
  install -d -o "$user" -g "$(id -gn "$user")" -m 755 "$dir" "$dir/subdir"
  rm -f "$dir/file"
  printf 'read-only\n' >"$dir/file"
  chown "$user:$(id -gn "$user")" "$dir/file"
  chmod 644 "$dir/file"
}
render_for_probe() {  # NAME
  local name=$1 dir=$SB_WORK/$1 user=${PROFILE_USER[$1]:-postgres}
  mkdir -p "$dir"/{data,run,log,archive,scratch,conf}
  chown "$user:" "$dir"/{data,run,log,archive,scratch}
  mkdir -p "$dir/sock"
  chown "$user:" "$dir/sock"
  touch "$dir/conf/vip.conf"
  sb_render "$SB_PROFILES/$name.conf.in" "$dir/profile.conf" USER="$user" \
    GROUP="$(id -gn "$user")" DATA_DIR="$dir/data" SOCKET_DIR="$dir/sock" RUN_DIR="$dir/run" \
    LOG_DIR="$dir/log" ARCHIVE_DIR="$dir/archive" SCRATCH_DIR="$dir/scratch" \
    CONF_DIR="$dir/conf" PORT=55490 PCP_PORT=55491 WD_PORT=55493 CONNECT_PORTS=55492 NICE=10 \
    PGGUARD_DIR="$SB_WORK/pgguard" VIP_CONFIG="$dir/conf/vip.conf" ||
    return 1
  reset_read_only "$dir/readonly" "$user"
  printf '\n# added by sandbox_probe.sh\n[landlock]\nexecute = %s\nread = %s\n' "$PROBE_DIR" \
    "$dir/readonly" >>"$dir/profile.conf"
  # The VIP broker's profile reads no library and no /proc (its program is a static PIE that
  # never opens them); the probe is dynamically linked and reads /proc/self/status.
  if ! grep -q '^execute = /usr$' "$dir/profile.conf"; then
    printf 'execute = /usr\nread = /proc\n' >>"$dir/profile.conf"
  fi
}

as_user() {  # USER COMMAND...: outside any sandbox, as USER (the controls)
  local user=$1
  shift
  setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- "$@"
}

ATTEMPTS=0
DENIED=0
attempt() {  # DESCRIPTION DENIED(0/1) [DETAIL]
  ATTEMPTS=$((ATTEMPTS + 1))
  if [ "$2" = 1 ]; then
    DENIED=$((DENIED + 1))
  else
    sb_fail "$1 was NOT denied ${3:-}"
  fi
}

mapfile -t KILLED < <("$PROBE_DIR/probe" list-killed)
[ "${#KILLED[@]}" -ge 40 ] || sb_fail "probe lists only ${#KILLED[@]} killed syscalls"
# The names the launcher's filter kills, as explain prints them ("killed (N):" and the wrapped
# names below it): the probe must attempt exactly these, no fewer.
killed_by_launcher() {  # PROFILE
  "$SB_LAUNCH" explain --profile "$1" |
    awk '/^  killed \(/ { on = 1; next } on && /^  [^ ]/ { on = 0 } on { for (i = 1; i <= NF; i++) print $i }'
}

for template in "$SB_PROFILES"/*.conf.in; do
  name=$(basename "$template" .conf.in)
  render_for_probe "$name" || {
    sb_fail "render $name"
    continue
  }
  profile=$SB_WORK/$name/profile.conf
  user=${PROFILE_USER[$name]:-postgres}
  caps=${PROFILE_CAPS[$name]:-0000000000000000}
  before_attempts=$ATTEMPTS before_denied=$DENIED
  run() { "$SB_LAUNCH" run --profile "$profile" -- "$@"; }

  launcher_killed=$(killed_by_launcher "$profile" | sort)
  if [ -z "$launcher_killed" ] || [ "$launcher_killed" != "$(printf '%s\n' "${KILLED[@]}" | sort)" ]; then
    sb_fail "$name: the probe's killed list is not the launcher's: $(diff <(echo "$launcher_killed") \
      <(printf '%s\n' "${KILLED[@]}" | sort) | grep '^[<>]' | tr '\n' ' ')"
  fi

  # Positive control: the probe runs at all under this profile.
  if ! out=$(run "$PROBE_DIR/probe" status 2>&1); then
    sb_fail "$name: the probe does not even start: $out"
    continue
  fi

  for syscall in "${KILLED[@]}" x32 int80; do
    if [ "$syscall" = x32 ] || [ "$syscall" = int80 ]; then
      out=$(run "$PROBE_DIR/probe" "$syscall" 2>&1)
    else
      out=$(run "$PROBE_DIR/probe" killed "$syscall" 2>&1)
    fi
    rc=$?
    # 128 + SIGSYS (31): killed by seccomp (SECCOMP_RET_KILL_PROCESS).
    [ "$rc" -eq 159 ] && attempt "$name: $syscall" 1 || attempt "$name: $syscall" 0 "(exit $rc: $out)"
  done

  # The read-only target's control, outside the sandbox as the profile's user: file permissions
  # must allow every write the probe then attempts under the profile.
  abi=$("$SB_LAUNCH" check --profile "$profile" | sed -n 's/.*Landlock ABI \([0-9]*\).*/\1/p')
  [ -n "$abi" ] && [ "$abi" -ge 1 ] || sb_fail "$name: no Landlock ABI in check's output"
  read_only=$SB_WORK/$name/readonly
  control=$(setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- \
    "$PROBE_DIR/probe" read-only "$read_only" --landlock-abi "${abi:-0}" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || ! grep -qE '^attempts [1-9][0-9]*, denied 0$' <<<"$control"; then
    grep -E '^(denied|CONTROL)' <<<"$control" >&2
    sb_fail "$name: file permissions refuse writes in $read_only (exit $rc): only Landlock may"
  fi
  reset_read_only "$read_only" "$user"

  out=$(run "$PROBE_DIR/probe" denials --outside "$OUTSIDE" --outside /var/tmp --outside /etc \
    --outside "$SB_WORK" --read-only "$read_only" --landlock-abi "${abi:-0}" \
    --bind-port "$BIND_PORT" --connect-port "$CONNECT_PORT" 2>&1)
  rc=$?
  n=$(sed -n 's/^attempts \([0-9]*\), denied \([0-9]*\)$/\1 \2/p' <<<"$out")
  if [ -z "$n" ]; then
    sb_fail "$name: probe denials gave no tally (exit $rc): $out"
  else
    read -r probe_attempts probe_denied <<<"$n"
    ATTEMPTS=$((ATTEMPTS + probe_attempts))
    DENIED=$((DENIED + probe_denied))
    if [ "$rc" -ne 0 ] || [ "$probe_attempts" -ne "$probe_denied" ]; then
      grep -E '^(ALLOWED|CONTROL)' <<<"$out" >&2
      sb_fail "$name: in-process forbidden operations succeeded"
    fi
  fi

  for copy in probe-setuid probe-filecaps probe-filecaps-p; do
    out=$(run "$PROBE_DIR/$copy" status 2>&1)
    if [ "$copy" = probe-filecaps ] && grep -q "exec $PROBE_DIR/$copy: Operation not permitted" <<<"$out"; then
      attempt "$name: exec $copy" 1  # refused by the kernel: the bounding set lacks its caps
      continue
    fi
    euid=$(awk '$1 == "Uid:" { print $3 }' <<<"$out")
    capeff=$(awk '$1 == "CapEff:" { print $2 }' <<<"$out")
    capprm=$(awk '$1 == "CapPrm:" { print $2 }' <<<"$out")
    # No capability beyond the profile's (exec of a file with capabilities may clear ambient).
    if [ -n "$euid" ] && [ "$euid" != 0 ] && [ -n "$capeff" ] && [ -n "$capprm" ] &&
      [ $(((0x$capeff | 0x$capprm) & ~0x$caps)) -eq 0 ]; then
      attempt "$name: exec $copy" 1
    else
      attempt "$name: exec $copy" 0 "(euid '$euid', CapEff '$capeff', CapPrm '$capprm': $out)"
    fi
  done
  # W^X: nothing the profile may write may it execute.
  while read -r writable; do
    [ -d "$writable" ] || continue
    copy=$writable/pgguard-probe-wx-$$
    install -m 755 -o "$user" "$PROBE_BIN" "$copy" || {
      sb_fail "$name: cannot place a program in $writable"
      continue
    }
    if ! as_user "$user" "$copy" status >/dev/null 2>&1; then
      sb_fail "$name: control: $copy does not run outside the sandbox either"
    else
      out=$(run "$copy" status 2>&1)
      rc=$?
      [ "$rc" -ne 0 ] && grep -q "Permission denied" <<<"$out" && attempt "$name: exec in $writable" 1 ||
        attempt "$name: exec in $writable" 0 "(exit $rc: $out)"
    fi
    rm -f "$copy"
  done < <(sed -n 's/^write = //p' "$profile")

  # Landlock scopes against a process of the same user outside the sandbox.
  explained=$("$SB_LAUNCH" explain --profile "$profile")
  check_scope() {  # WHAT EXPLAIN-LINE-PREFIX PROBE-ARGS...
    local what=$1 prefix=$2 line
    shift 2
    line=$(grep -F -- "$prefix" <<<"$explained")
    out=$(run "$PROBE_DIR/probe" "$@" 2>&1)
    rc=$?
    case "$line" in
    *"(Landlock scope)"*) [ "$rc" -eq 1 ] && attempt "$name: $what" 1 || attempt "$name: $what" 0 "(exit $rc: $out)" ;;
    *"separates it"* | *"no file permission"*)
      [ "$rc" -eq 0 ] || sb_fail "$name: explain says '$line' but $what failed (exit $rc: $out)" ;;
    *) sb_fail "$name: explain has no '$prefix' line" ;;
    esac
  }
  # setpriv execs its command, so $! is the sleeper's and the listener's own pid.
  setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- sleep 300 &
  sleeper=$!
  abstract=pgguard-probe-$$-$name
  setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind("\0" + sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept(); c.close()
' "$abstract" &
  listener=$!
  for _ in $(seq 50); do
    grep -q "@$abstract\$" /proc/net/unix && break
    sleep 0.1
  done
  check_scope "signal to pid $sleeper of $user outside" "signals:" signal "$sleeper"
  check_scope "connect to @$abstract of $user outside" "abstract unix sockets:" \
    abstract-connect "$abstract"
  kill "$sleeper" "$listener" 2>/dev/null
  wait "$sleeper" "$listener" 2>/dev/null
  # Never a leftover, whatever happened above: both run as a system account of the host.
  sb_on_exit "kill $sleeper $listener 2>/dev/null"

  # Socket families against explain's rules, with the same calls outside as the control.
  rules=$(sed -n 's/^  socket:         only \(.*\); any other:.*/\1/p' <<<"$explained" | tr -d ' ')
  [ -n "$rules" ] || sb_fail "$name: explain names no socket rules ($(grep '^  socket:' <<<"$explained"))"
  declare -A outside_result=()
  while read -r family result; do
    outside_result[$family]=$result
  done < <(as_user "$user" "$PROBE_DIR/probe" socket-families)
  [ "${outside_result[AF_NETLINK:NETLINK_NETFILTER]:-}" = worked ] ||
    sb_fail "$name: control: a NETLINK_NETFILTER socket does not open outside the sandbox either"
  while read -r family result; do
    [ "${outside_result[$family]:-}" = worked ] || continue  # not provable on this host
    if [[ ",$rules," == *",$family,"* || ",$rules," == *",${family%%:*},"* ]]; then
      [ "$result" = worked ] || sb_fail "$name: socket $family is in the profile's rules but failed: $result"
    elif [ "$result" = "Operation not permitted" ]; then
      attempt "$name: socket $family" 1
    else
      attempt "$name: socket $family" 0 "($result)"
    fi
  done < <(run "$PROBE_DIR/probe" socket-families 2>/dev/null)
  unset outside_result

  echo "$name: attempts $((ATTEMPTS - before_attempts)), denied $((DENIED - before_denied))"
done

echo "attempts $ATTEMPTS, denied $DENIED"
[ "$ATTEMPTS" -gt 0 ] && [ "$ATTEMPTS" -eq "$DENIED" ] || sb_fail "$((ATTEMPTS - DENIED)) forbidden operations succeeded"
sb_finish
