#!/bin/bash
# Bad profiles: each must give a clear error naming the profile file and the offending key,
# exit 2, and must NOT start the target (the target would create a marker file).
# A stale or tampered precompiled BPF file is refused the same way. A good profile with the
# same target creates the marker (so the marker check can fail).
# Usage: sandbox_bad_profiles.sh PGGUARD_LAUNCH
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
sb_setup "$1"

MARKERS=$SB_WORK/markers
install -d -o postgres -g postgres -m 755 "$MARKERS"
mkdir -p "$SB_WORK/ro/rw"

good_profile() {  # the base every case starts from
  cat <<EOF
user = postgres
group = postgres
[rlimit]
nofile = 256:256
[seccomp]
group = base
# touch sets the times of the file it creates.
allow = utimensat
[landlock]
execute = /usr
read = /etc
write = $MARKERS
EOF
}

# expect_refused NAME KEY_IN_MESSAGE PROFILE_TEXT
expect_refused() {
  printf '%s\n' "$3" >"$SB_WORK/$1.conf"
  check_refused "$1" "$2"
}

# check_refused NAME KEY_IN_MESSAGE: the profile $SB_WORK/NAME.conf is already written.
check_refused() {
  local name=$1 key=$2 profile=$SB_WORK/$1.conf marker=$MARKERS/$1 out rc
  out=$("$SB_LAUNCH" run --profile "$profile" -- /usr/bin/touch "$marker" 2>&1)
  rc=$?
  if [ "$rc" -ne 2 ]; then
    sb_fail "$name: exit $rc, expected 2 ($out)"
  elif ! grep -qF "$profile" <<<"$out" || ! grep -qiF "$key" <<<"$out"; then
    sb_fail "$name: message does not name the file and '$key': $out"
  elif [ -e "$marker" ]; then
    sb_fail "$name: the target ran although the profile was refused"
  else
    sb_pass "$name: exit 2, target not started: $out"
  fi
  out=$("$SB_LAUNCH" check --profile "$profile" 2>&1)
  rc=$?
  [ "$rc" -eq 2 ] || sb_fail "$name: check exited $rc, expected 2 ($out)"
}

# Positive control.
good_profile >"$SB_WORK/good.conf"
if "$SB_LAUNCH" run --profile "$SB_WORK/good.conf" -- /usr/bin/touch "$MARKERS/good" &&
  [ -e "$MARKERS/good" ]; then
  sb_pass "good profile: the target runs and creates its marker"
else
  sb_fail "good profile: the target did not run"
fi

expect_refused unknown-syscall "not_a_syscall" "$(good_profile)
[seccomp]
allow = not_a_syscall"
expect_refused unknown-group "no-such-group" "$(good_profile | sed 's/^group = base$/group = no-such-group/')"
expect_refused killed-syscall-allowed "ptrace" "$(good_profile)
[seccomp]
allow = ptrace"
expect_refused unknown-capability "CAP_NOT_REAL" "$(good_profile)
[capabilities]
bounding = CAP_NOT_REAL"
expect_refused forbidden-capability "CAP_SYS_ADMIN" "$(good_profile)
[capabilities]
bounding = CAP_SYS_ADMIN"
expect_refused ambient-not-bounding "ambient" "$(good_profile)
[capabilities]
ambient = CAP_NET_RAW"
expect_refused missing-user "pgguard-no-such-user" "$(good_profile | sed 's/^user = postgres$/user = pgguard-no-such-user/')"
expect_refused root-user "user" "$(good_profile | sed 's/^user = postgres$/user = root/; /^group = postgres$/d')"
expect_refused malformed-limit "nofile" "$(good_profile | sed 's/^nofile = 256:256$/nofile = lots/')"
expect_refused soft-above-hard "nofile" "$(good_profile | sed 's/^nofile = 256:256$/nofile = 512:256/')"
expect_refused writable-under-readonly "$SB_WORK/ro/rw" "$(good_profile)
[landlock]
read = $SB_WORK/ro
write = $SB_WORK/ro/rw"
expect_refused unknown-key "frobnicate" "frobnicate = 1
$(good_profile)"
expect_refused unknown-default-action "default_action" "$(good_profile)
[seccomp]
default_action = allow"

# default_action = log allows everything outside the allowlist: refused without the explicit
# staging switch; with it the target runs, and check and explain say it is a staging profile.
expect_refused log-without-staging "seccomp.default_action" "$(good_profile)
[seccomp]
default_action = log"
expect_refused staging-without-log "seccomp.staging" "$(good_profile)
[seccomp]
staging = true"
printf '%s\n[seccomp]\ndefault_action = log\nstaging = true\n' "$(good_profile)" >"$SB_WORK/staging.conf"
if "$SB_LAUNCH" run --profile "$SB_WORK/staging.conf" -- /usr/bin/touch "$MARKERS/staging" &&
  [ -e "$MARKERS/staging" ] &&
  "$SB_LAUNCH" check --profile "$SB_WORK/staging.conf" | grep -qF "STAGING: seccomp default action log" &&
  "$SB_LAUNCH" explain --profile "$SB_WORK/staging.conf" | sed -n 3p | grep -qF "!! STAGING PROFILE (seccomp.staging = true, $SB_WORK/staging.conf:"; then
  sb_pass "staging profile (log + staging = true): runs, and check and explain flag it"
else
  sb_fail "staging profile: not run, or not flagged by check and explain"
fi

# A NUL inside a value (issue 18, item 16): 'clone\0x' passed every check and was applied as an
# unconditional allow of clone; '/var\0x' as a Landlock path beside a writable /var/tmp. Refused
# now, naming file, line and key.
printf '%s\n[seccomp]\nallow = clone\0x\n' "$(good_profile)" >"$SB_WORK/nul-syscall.conf"
check_refused nul-syscall "seccomp.allow: control character 0x00 (NUL)"
printf '%s\n[landlock]\nread = /var\0x\nwrite = /var/tmp\n' "$(good_profile)" >"$SB_WORK/nul-path.conf"
check_refused nul-path "landlock.read: control character 0x00 (NUL)"
printf 'env = A=b\0x\n%s\n' "$(good_profile)" >"$SB_WORK/nul-env.conf"
check_refused nul-env "env: control character 0x00 (NUL)"

# Files that are no profile, filter or pid file: refused at once (exit 2, naming the file type),
# never waited on or read without end. `timeout` turns a hang into a failure (exit 124), and the
# memory ceiling keeps a regression that reads /dev/zero from taking the machine's memory.
mkfifo "$SB_WORK/fifo"
expect_not_a_file() {  # NAME FRAGMENT ARGS...
  local name=$1 fragment=$2 out rc
  shift 2
  out=$(timeout 10 prlimit --as=$((1 << 30)) "$SB_LAUNCH" "$@" 2>&1)
  rc=$?
  if [ "$rc" -eq 2 ] && grep -qF -- "$fragment" <<<"$out" && [ ! -e "$MARKERS/special" ]; then
    sb_pass "$name: exit 2: $out"
  else
    sb_fail "$name: exit $rc (124 means it blocked), expected 2 and '$fragment': $out"
  fi
}
expect_not_a_file "FIFO as --profile" "$SB_WORK/fifo: not a regular file (a FIFO)" \
  run --profile "$SB_WORK/fifo" -- /usr/bin/touch "$MARKERS/special"
expect_not_a_file "/dev/zero as --profile" "/dev/zero: not a regular file (a character device)" \
  check --profile /dev/zero
expect_not_a_file "FIFO as --seccomp-bpf" "$SB_WORK/fifo: refusing the seccomp BPF file: not a regular file (a FIFO)" \
  run --profile "$SB_WORK/good.conf" --seccomp-bpf "$SB_WORK/fifo" -- /usr/bin/touch "$MARKERS/special"
expect_not_a_file "FIFO as --pidfile" "pidfile: $SB_WORK/fifo: not a regular file (a FIFO)" \
  run --profile "$SB_WORK/good.conf" --pidfile "$SB_WORK/fifo" -- /usr/bin/touch "$MARKERS/special"
expect_not_a_file "/dev/null as --pidfile" "pidfile: /dev/null: not a regular file (a character device)" \
  run --profile "$SB_WORK/good.conf" --pidfile /dev/null -- /usr/bin/touch "$MARKERS/special"
[ -c /dev/null ] || sb_fail "/dev/null is no longer a character device"
{ good_profile; printf '#%*s\n' $((1 << 20)) ''; } >"$SB_WORK/oversize.conf"
expect_not_a_file "a profile above 1 MiB" "more than the 1 MiB such a file may have" \
  check --profile "$SB_WORK/oversize.conf"

# Out of memory has its own exit code and says so: a profile of ~1 MiB (60,000 Landlock paths)
# needs ~16 MB to check, a small one less than 6 MB; under a 10 MB ceiling only the first fails.
{ printf 'user = postgres\n[seccomp]\ngroup = base\n[landlock]\n'; seq -f 'read = /p%g' 60000; } \
  >"$SB_WORK/large.conf"
out=$(prlimit --as=$((10 << 20)) "$SB_LAUNCH" check --profile "$SB_WORK/large.conf" 2>&1)
rc=$?
if [ "$rc" -eq 5 ] && grep -qF "pgguard-launch: out of memory" <<<"$out" &&
  prlimit --as=$((10 << 20)) "$SB_LAUNCH" check --profile "$SB_WORK/good.conf" >/dev/null; then
  sb_pass "out of memory: exit 5: $out"
else
  sb_fail "out of memory: exit $rc, expected 5 and 'out of memory' (and the small profile to pass): $out"
fi

# SELinux built in but not enabled (this kind of machine; an enforcing host is covered by
# selinux_enforcing_vm): a profile's context is skipped with one notice and the target runs;
# with selinux.required = true the launch is refused with exit 4 and nothing starts, while
# explain reports it.
if [ "$(stat -f -c %T /sys/fs/selinux 2>/dev/null)" = selinux ]; then
  sb_fail "selinuxfs is mounted here: the SELinux cases below expect it not to be"
fi
selinux_context="[selinux]
context = system_u:system_r:secpg_postgres_t:s0"
printf '%s\n%s\n' "$(good_profile)" "$selinux_context" >"$SB_WORK/selinux.conf"
out=$("$SB_LAUNCH" run --profile "$SB_WORK/selinux.conf" -- /usr/bin/touch "$MARKERS/selinux" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [ -e "$MARKERS/selinux" ] &&
  grep -qF "SELinux is not enabled on this host: exec context 'system_u:system_r:secpg_postgres_t:s0' not applied" <<<"$out"; then
  sb_pass "SELinux context on a host without SELinux: one notice, the target runs"
else
  sb_fail "SELinux context on a host without SELinux: exit $rc, marker $(ls "$MARKERS"): $out"
fi
printf '%s\n%s\nrequired = true\n' "$(good_profile)" "$selinux_context" >"$SB_WORK/selinux-required.conf"
out=$("$SB_LAUNCH" run --profile "$SB_WORK/selinux-required.conf" -- \
  /usr/bin/touch "$MARKERS/selinux-required" 2>&1)
rc=$?
if [ "$rc" -eq 4 ] && [ ! -e "$MARKERS/selinux-required" ] &&
  grep -qF "$SB_WORK/selinux-required.conf" <<<"$out" && grep -qF "selinux.required = true" <<<"$out"; then
  sb_pass "SELinux required on a host without SELinux: exit 4, target not started: $out"
else
  sb_fail "SELinux required on a host without SELinux: exit $rc: $out"
fi
# The same production profile can still be read here: explain reports the refusal first and
# exits 0; check, which says whether it can run here, refuses like run.
out=$("$SB_LAUNCH" explain --profile "$SB_WORK/selinux-required.conf" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && grep -qF '!! run REFUSES this profile on this host (exit 4)' <<<"$out" &&
  grep -qF "$SB_WORK/selinux-required.conf" <<<"$out" && grep -q '^identity$' <<<"$out"; then
  sb_pass "explain of a profile this host cannot run: reported, exit 0"
else
  sb_fail "explain of a profile this host cannot run: exit $rc: $out"
fi
out=$("$SB_LAUNCH" check --profile "$SB_WORK/selinux-required.conf" 2>&1)
rc=$?
if [ "$rc" -eq 4 ] && grep -qF "selinux.required = true" <<<"$out"; then
  sb_pass "check of a profile this host cannot run: exit 4"
else
  sb_fail "check of a profile this host cannot run: exit $rc: $out"
fi

# A precompiled filter that does not match the profile, or was tampered with.
good_profile >"$SB_WORK/bpf.conf"
"$SB_LAUNCH" compile --profile "$SB_WORK/bpf.conf" --output "$SB_WORK/good.bpf" >/dev/null ||
  sb_fail "compile a filter"
printf '\n[seccomp]\nallow = uname\n' >>"$SB_WORK/bpf.conf"
out=$("$SB_LAUNCH" run --profile "$SB_WORK/bpf.conf" --seccomp-bpf "$SB_WORK/good.bpf" -- \
  /usr/bin/touch "$MARKERS/stale-bpf" 2>&1)
rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$MARKERS/stale-bpf" ] && sb_pass "stale BPF file refused: $out" ||
  sb_fail "stale BPF file: exit $rc, marker $(ls "$MARKERS")"
good_profile >"$SB_WORK/bpf.conf"
cp "$SB_WORK/good.bpf" "$SB_WORK/tampered.bpf"
size=$(stat -c %s "$SB_WORK/tampered.bpf")
# Flip one byte of the last instruction (the program, not the header).
printf '\x01' | dd of="$SB_WORK/tampered.bpf" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
out=$("$SB_LAUNCH" run --profile "$SB_WORK/bpf.conf" --seccomp-bpf "$SB_WORK/tampered.bpf" -- \
  /usr/bin/touch "$MARKERS/tampered-bpf" 2>&1)
rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$MARKERS/tampered-bpf" ] && sb_pass "tampered BPF file refused: $out" ||
  sb_fail "tampered BPF file: exit $rc"

# Bad command lines: exit 2 with a message naming the problem, target not started.
good=$SB_WORK/good.conf
expect_usage_error() {  # NAME FRAGMENT ARGS...
  local name=$1 fragment=$2 out rc
  shift 2
  out=$("$SB_LAUNCH" "$@" 2>&1)
  rc=$?
  if [ "$rc" -eq 2 ] && grep -qF -- "$fragment" <<<"$out" && [ ! -e "$MARKERS/cli" ]; then
    sb_pass "command line $name: exit 2: $(head -1 <<<"$out")"
  else
    sb_fail "command line $name: exit $rc, expected 2 and '$fragment' ($out)"
  fi
}
expect_usage_error "no profile" "--profile FILE is required" run -- /usr/bin/touch "$MARKERS/cli"
expect_usage_error "unknown option" "unknown option '--prof'" run --prof "$good" -- /usr/bin/touch "$MARKERS/cli"
expect_usage_error "option without value" "--pidfile needs a value" run --profile "$good" --pidfile
expect_usage_error "repeated option" "--profile given more than once" run --profile "$good" \
  --profile="$good" -- /usr/bin/touch "$MARKERS/cli"
expect_usage_error "stray argument" "unexpected argument" run "$good" -- /usr/bin/touch "$MARKERS/cli"
expect_usage_error "no command" "run needs '-- CMD" run --profile "$good"
expect_usage_error "option of another command" "--output is only valid with 'compile'" run \
  --profile "$good" --output "$SB_WORK/x.bpf" -- /usr/bin/touch "$MARKERS/cli"
expect_usage_error "an ABI above the kernel's" "only an older ABI can be tried here" run \
  --profile "$good" --landlock-abi 99 -- /usr/bin/touch "$MARKERS/cli"
expect_usage_error "an ABI that is no number" "'1x' is not an ABI number" run --profile "$good" \
  --landlock-abi 1x -- /usr/bin/touch "$MARKERS/cli"
expect_usage_error "an ABI for compile" "--landlock-abi is not valid with 'compile'" compile \
  --profile "$good" --output "$SB_WORK/x.bpf" --landlock-abi 1

# W^X on this host's real tree: an execute path that is a symlink into a write path passes the
# profile's text (the names do not overlap) and is refused once opened (exit 2), naming both.
install -d -o postgres -m 755 "$SB_WORK/wx" "$SB_WORK/wx/scratch"
ln -s "$SB_WORK/wx/scratch" "$SB_WORK/wx-tools"
{
  good_profile
  printf 'execute = %s\nwrite = %s\n' "$SB_WORK/wx-tools" "$SB_WORK/wx/scratch"
} >"$SB_WORK/wx.conf"
out=$("$SB_LAUNCH" run --profile "$SB_WORK/wx.conf" -- /usr/bin/touch "$MARKERS/wx" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && grep -qF "reach the same files on this host" <<<"$out" &&
  grep -qF "landlock.execute: '$SB_WORK/wx-tools'" <<<"$out" && [ ! -e "$MARKERS/wx" ]; then
  sb_pass "W^X through a symlink: exit 2, target not started: $out"
else
  sb_fail "W^X through a symlink: exit $rc, marker $(ls "$MARKERS"): $out"
fi

if "$SB_LAUNCH" run --profile="$good" -- /usr/bin/touch "$MARKERS/cli-equals" && [ -e "$MARKERS/cli-equals" ]; then
  sb_pass "command line --profile=FILE form accepted"
else
  sb_fail "command line --profile=FILE form refused"
fi

sb_finish
