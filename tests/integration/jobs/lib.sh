# shellcheck shell=bash
# Shared by the job tests: the release's jobs on test VMs (tests/lib/vm.sh), run the way BOSH
# runs them: pre-start, then monit's start and stop programs exactly as the job's monit file
# names them.

JT_FAILED_LOGS=()

# jt_begin PREFIX PROGRAM...: what every job test needs first. Root's kernel features and
# PostgreSQL 15 (a missing one skips, or fails under CI=true), the named programs built in
# PGGUARD_BIN_DIR (DIR/NAME, e.g. pgpool/pgguard-pgpool), a work directory and VMs named
# PREFIX<pid>, all removed on exit. Sets pg_bin, programs and work.
jt_begin() {
  local prefix="$1$$" program
  shift
  require_nftables
  require_command ruby nsenter openssl python3
  pg_bin=/usr/lib/postgresql/15/bin
  [ -x "$pg_bin/postgres" ] || missing_prerequisite "PostgreSQL 15 server ($pg_bin)"
  id postgres >/dev/null 2>&1 || missing_prerequisite "the postgres account of Debian's postgresql-15"
  programs="${PGGUARD_BIN_DIR:-/nonexistent}"
  for program in "$@"; do
    [ -x "$programs/$program" ] || jt_fail "$program not built in $programs"
  done
  work="$(mktemp -d "/tmp/$prefix.XXXXXX")"
  trap 'vm_cleanup; rm -rf "$work"' EXIT
  vm_init "$prefix" "$work/run"
}
JT_MONIT_LOGS=()

jt_fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "${JT_FAILED_LOGS[@]}"; do
    [ -f "$log" ] || continue
    echo "--- $log (last 30 lines)" >&2
    tail -n 30 "$log" >&2
  done
  exit 1
}
jt_log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# jt_monit_program VM JOB SERVICE start|stop: the command line of a service's start or stop
# program, read from the job's installed monit file.
jt_monit_program() {
  local vm="$1" job="$2" service="$3" which="$4" monit
  monit="$(vm_dir "$vm")/vcap/jobs/$job/monit"
  awk -v service="$service" -v which="$which" '
    $1 == "check" && $2 == "process" { current = $3 }
    current == service && $1 == which && $2 == "program" {
      match($0, /"[^"]*"/); print substr($0, RSTART + 1, RLENGTH - 2); exit
    }' "$monit"
}

# jt_monit_start VM JOB SERVICE: runs the start program in the background, as monit spawns it.
jt_monit_start() {
  local command
  command="$(jt_monit_program "$1" "$2" "$3" start)"
  [ -n "$command" ] || jt_fail "no start program for $3 in $2's monit file"
  # shellcheck disable=SC2086 # monit splits the program string on spaces
  vm_run "$1" $command &
  disown $!
}

jt_monit_stop() {
  local command
  command="$(jt_monit_program "$1" "$2" "$3" stop)"
  [ -n "$command" ] || jt_fail "no stop program for $3 in $2's monit file"
  # shellcheck disable=SC2086
  vm_run "$1" $command
}

# jt_wait_file VM PATH DESCRIPTION: waits (bounded, 60 s) for a non-empty file on the VM.
jt_wait_file() {
  local path
  path="$(vm_dir "$1")/vcap/${2#/var/vcap/}"
  for _ in $(seq 600); do
    [ -s "$path" ] && return 0
    sleep 0.1
  done
  jt_fail "not within 60 s: $3"
}

# jt_proc_field PID FIELD: a /proc/PID/status field's value.
jt_proc_field() { awk -v field="$2:" '$1 == field { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }

# jt_expect_sandboxed WHAT PID USER: the process runs as USER (a name, or the uid of an account
# only the VM has), with no capability, no_new_privs and a seccomp filter.
jt_expect_sandboxed() {
  local what="$1" pid="$2" user="$3" uid="$3"
  [[ "$user" =~ ^[0-9]+$ ]] || uid="$(id -u "$user")"
  [ "$(jt_proc_field "$pid" Uid | awk '{print $1, $2, $3, $4}')" = "$uid $uid $uid $uid" ] ||
    jt_fail "$what ($pid): Uid is $(jt_proc_field "$pid" Uid), expected $uid for $user"
  [ "$(jt_proc_field "$pid" CapEff)" = 0000000000000000 ] || jt_fail "$what: CapEff $(jt_proc_field "$pid" CapEff)"
  [ "$(jt_proc_field "$pid" CapBnd)" = 0000000000000000 ] || jt_fail "$what: CapBnd $(jt_proc_field "$pid" CapBnd)"
  [ "$(jt_proc_field "$pid" CapAmb)" = 0000000000000000 ] || jt_fail "$what: CapAmb $(jt_proc_field "$pid" CapAmb)"
  [ "$(jt_proc_field "$pid" NoNewPrivs)" = 1 ] || jt_fail "$what: NoNewPrivs $(jt_proc_field "$pid" NoNewPrivs)"
  [ "$(jt_proc_field "$pid" Seccomp)" = 2 ] || jt_fail "$what: Seccomp $(jt_proc_field "$pid" Seccomp)"
}

# jt_tls_material DIR ADDRESS...: a CA and a server certificate whose alternative names are the
# addresses, as CredHub would generate them for the manifest's variables.
jt_tls_material() {
  local dir="$1" san="" address
  shift
  for address in "$@"; do san="${san:+$san,}IP:$address"; done
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=secure-postgres test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$dir/server.key" \
    -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.crt" 2>/dev/null
}

# jt_monit_up VM JOB...: a real monit on the VM, laid out as the BOSH agent lays it out: each
# job's monit file copied to /var/vcap/monit/job/JOB.monitrc and included by the control file,
# the HTTP interface on the VM's loopback (local/lib/monitrc). It checks every second
# (stemcells: every 10 s). This is Debian's monit; which constructs stemcells' 5.2.5 accepts is
# checked by tests/lint/monit525.rb on every job's file.
jt_monit_up() {
  local vm="$1" job dir
  shift
  dir="$(vm_dir "$vm")/vcap/monit"
  mkdir -p "$dir/job"
  for job in "$@"; do
    cp "$(vm_dir "$vm")/vcap/jobs/$job/monit" "$dir/job/$job.monitrc"
  done
  # The agent's control file, checking every second instead of every 10 s.
  sed 's/^set daemon 10$/set daemon 1/' "$PGGUARD_SOURCE_DIR/local/lib/monitrc" >"$dir/monitrc"
  chmod 0600 "$dir/monitrc"
  vm_run "$vm" monit -c /var/vcap/monit/monitrc -t >/dev/null || jt_fail "monit refuses the control file"
  vm_run "$vm" monit -c /var/vcap/monit/monitrc || jt_fail "monit did not start"
  for _ in $(seq 100); do
    vm_run "$vm" monit -c /var/vcap/monit/monitrc status >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  jt_fail "monit's interface did not come up"
}

jt_monit() { local vm="$1"; shift; vm_run "$vm" monit -c /var/vcap/monit/monitrc "$@"; }
