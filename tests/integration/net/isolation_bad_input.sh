#!/usr/bin/env bash
# Bad configuration files, given to `apply` (and `verify`, `show`) in a namespace where our table
# is already applied next to another program's table: each must exit 2 with "file:line: key:" in
# the message, and leave the kernel's ruleset byte for byte as it was, and the hardening sysctls
# as they were. Then a good file the kernel refuses: exit 3, the kernel's error, nothing changed;
# the same with the kernel's answers lost (exit 3, read back), a committed batch whose answers
# were lost (exit 0, read back), a sysctl refused after the commit (exit 6); files that are no
# configuration (FIFO, device, directory, above 16 MiB, a NUL in a value: exit 2, at once); and
# running out of memory (exit 5).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/lib/topology.sh"
source "$here/lib/isolation.sh"

require_nftables
require_command strace prlimit timeout unshare
pgt_find_isolate

topology_trap
PGT_WORK="$(mktemp -d /tmp/pgt-work.XXXXXX)"
ns="$(pgt_ns bad)"
pgt_netns_add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name eth1
ip -n "$ns" addr add "$(pgt_addr4 a pgpool0)/16" dev eth0
ip -n "$ns" -6 addr add "$(pgt_addr6 a pgpool0)/48" dev eth0 nodad
ip -n "$ns" link set eth0 up

good="$PGT_WORK/good.conf"
pgt_render_config a pgpool0 >"$good"
pgt_isolate "$ns" apply "$good" >/dev/null || pgt_fail "the good config does not apply"
# Another program's table (the BOSH agent keeps one on noble) must survive everything too.
ip netns exec "$ns" nft -f - <<'EOF'
table inet bosh_agent {
  chain input { type filter hook input priority -1; policy accept; tcp dport 2822 counter accept; }
}
EOF
# Hand-made sysctl drift: a bad apply must not "repair" it either, it must change nothing.
ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth0.accept_redirects=1

snapshot_sysctls() {
  ip netns exec "$ns" sysctl -a 2>/dev/null |
    grep -E '\.(rp_filter|accept_redirects|secure_redirects|send_redirects|accept_source_route|log_martians|accept_ra|icmp_echo_ignore_broadcasts|icmp_ignore_bogus_error_responses|tcp_syncookies) ='
}
ruleset_before="$(ip netns exec "$ns" nft list ruleset)"
sysctls_before="$(snapshot_sysctls)"
[ -n "$sysctls_before" ] || pgt_fail "cannot read the namespace's sysctls"

cases=0
failures=0
# bad_case <name> <key> <line-marker|-> <sed script applied to the good config>
# <line-marker> is an extended regex naming the line the message must point at ("-": the key is
# missing altogether, so the message names the file without a line).
bad_case() {
  local name="$1" key="$2" marker="$3" script="$4"
  local file="$PGT_WORK/bad-$name.conf"
  sed -E "$script" "$good" >"$file"
  if cmp -s "$file" "$good"; then pgt_fail "case $name: the sed script changed nothing"; fi
  local where="$file"
  if [ "$marker" != - ]; then
    local line
    line="$(grep -m1 -nE "$marker" "$file" | cut -d: -f1)"
    [ -n "$line" ] || pgt_fail "case $name: marker /$marker/ not in the bad file"
    where="$file:$line"
  fi
  check_rejected "$name" "$key" "$where" "$file"
}

check_rejected() {  # NAME KEY WHERE FILE [FRAGMENT the message must also hold]
  local name="$1" key="$2" where="$3" file="$4" fragment="${5:-}" subcommand rc output ok=1
  cases=$((cases + 1))
  for subcommand in apply verify show; do
    set +e
    output="$(ip netns exec "$ns" "$PGT_ISOLATE" "$subcommand" --config "$file" 2>&1 >/dev/null)"
    rc=$?
    set -e
    if [ $rc != 2 ]; then
      echo "  case $name: $subcommand exit $rc, want 2 ($output)"
      ok=0
    fi
    local expected="$where: $key:"
    [ -n "$key" ] || expected="$where:"
    if [[ "$output" != *"$expected"* ]]; then
      echo "  case $name: $subcommand message does not name '$where: $key': $output"
      ok=0
    elif [[ "$output" != *"$fragment"* ]]; then
      echo "  case $name: $subcommand message does not say '$fragment': $output"
      ok=0
    fi
  done
  if [ "$(ip netns exec "$ns" nft list ruleset)" != "$ruleset_before" ]; then
    echo "  case $name: the ruleset changed"
    diff <(echo "$ruleset_before") <(ip netns exec "$ns" nft list ruleset) | head -20 || true
    ok=0
  fi
  if [ "$(snapshot_sysctls)" != "$sysctls_before" ]; then
    echo "  case $name: sysctls changed"
    ok=0
  fi
  if [ $ok = 1 ]; then
    echo "  ok: $name -> ${output##*$'\n'}"
  else
    failures=$((failures + 1))
  fi
}

m4='198\.18\.1'
# The cases of issue 3, item 6, and the rest of docs/isolation.md's validation list.
bad_case malformed-address member "member = standby $m4\.300" "s/^(member = standby) $m4\.12$/\1 198.18.1.300/"
bad_case malformed-address-v6 member "member = standby 2001:db8:1:1::12::7" \
  "s/^(member = standby) 2001:db8:1:1::12$/\1 2001:db8:1:1::12::7/"
bad_case malformed-cidr clients.cidr "^cidr = 198\.19\.0\.0/33" "s|^cidr = 198\.19\.0\.0/17|cidr = 198.19.0.0/33|"
bad_case cidr-host-bits clients.cidr "^cidr = 198\.19\.0\.1/17" "s|^cidr = 198\.19\.0\.0/17|cidr = 198.19.0.1/17|"
bad_case zone-id member "fe80::1%eth0" "s/^(member = standby) 2001:db8:1:1::12$/\1 fe80::1%eth0/"
bad_case ipv4-mapped member "::ffff:198" "s/^(member = standby) 2001:db8:1:1::12$/\1 ::ffff:198.18.1.99/"
bad_case duplicate-member member "member = pgpool $m4\.14  *# again" \
  "/^member = pgpool $m4\.14$/a member = pgpool 198.18.1.14  # again"
bad_case duplicate-cidr service_network.cidr "^cidr = 198\.18\.0\.0/16 # again" \
  "/^cidr = 198\.18\.0\.0\/16$/a cidr = 198.18.0.0/16 # again"
bad_case unknown-key colour "^colour" "/^table = /a colour = blue"
bad_case unknown-section-key clients.cidrs "^cidrs" "/^\[clients\]/a cidrs = 198.19.0.0/17"
bad_case repeated-single-key table "^table = again" "/^table = /a table = again"
bad_case malformed-line "" "^this line has no equals sign" "/^table = /a this line has no equals sign"
bad_case unknown-role member "member = primary" "s/^member = master ($m4\.11)$/member = primary \1/"
bad_case empty-member-list member - "/^member = /d"
bad_case self-not-member self "^self = $m4\.99" "s/^self = $m4\.13$/self = 198.18.1.99/"
bad_case member-in-clients clients.cidr "^cidr = 198\.18\.1\.0/24" "/^\[clients\]/a cidr = 198.18.1.0/24"
bad_case no-control-cidr control.cidr - "/^\[control\]/,/^\[/{/^cidr = /d}"
bad_case no-service-network service_network.cidr - "/^\[service_network\]/,/^\[/{/^cidr = /d}"
bad_case wrong-family member "^member = master 2001:" "/^self = 2001:/d"
bad_case vip-is-member vip "^vip = $m4\.13" "s/^vip = $m4\.20$/vip = 198.18.1.13/"
bad_case bad-rate icmp.echo_rate "^echo_rate = fast" "s|^echo_rate = .*|echo_rate = fast|"
bad_case ports-collide ports.watchdog "^watchdog = 5432" "/^\[clients\]/i [ports]\nwatchdog = 5432"
check_rejected missing-file "" "$PGT_WORK/does-not-exist.conf" "$PGT_WORK/does-not-exist.conf"

# The kernel refusing the batch: another program's socket owns a table of our name (flags
# owner), so the kernel answers EPERM. apply must exit 3 naming the kernel's error, and change
# nothing: neither the ruleset nor a sysctl (they are enforced only after the rules).
owned="$(pgt_ns bad-owned)"
pgt_netns_add "$owned"
ip netns exec "$owned" sysctl -qw net.ipv4.conf.all.rp_filter=0
mkfifo "$PGT_WORK/nft-owner"
ip netns exec "$owned" nft -i <"$PGT_WORK/nft-owner" >/dev/null 2>&1 &
PGT_PIDS+=($!)
exec 9>"$PGT_WORK/nft-owner"
echo "add table inet $PGT_TABLE { flags owner; }" >&9
echo "add chain inet $PGT_TABLE input { type filter hook input priority 0; policy accept; }" >&9
deadline=$((SECONDS + 10))
until ip netns exec "$owned" nft list chain inet "$PGT_TABLE" input >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || pgt_fail "could not create the owned table"
  sleep 0.1
done
owned_before="$(ip netns exec "$owned" nft list ruleset)"
set +e
output="$(ip netns exec "$owned" "$PGT_ISOLATE" apply --config "$good" 2>&1)"
rc=$?
set -e
pgt_log "apply refused by the kernel: exit $rc: $output"
[ $rc = 3 ] || pgt_fail "apply exit $rc when the kernel refused the batch, want 3"
[[ "$output" == *"Operation not permitted"* ]] || pgt_fail "the kernel's error is not printed: $output"
[ "$(ip netns exec "$owned" nft list ruleset)" = "$owned_before" ] || pgt_fail "the ruleset changed although the kernel refused the batch"
[ "$(ip netns exec "$owned" sysctl -n net.ipv4.conf.all.rp_filter)" = 0 ] || pgt_fail "sysctls were written although the rules were refused"

# The kernel's answers to a batch lost (issue 18, item 4): strace fails the first recvmsg after
# the batch's sendto with EAGAIN, as a receive timeout would. nf_tables has decided the batch
# inside that sendto, so apply must read the ruleset back and report what really happened,
# never "previous ruleset kept" on faith.
# first_answer_read <ns> <args...>: the number of the first recvmsg after the batch is sent, in
# a run with these arguments (every run in the same state makes the same calls up to there).
first_answer_read() {
  local ns="$1" trace="$PGT_WORK/trace"
  shift
  ip netns exec "$ns" strace -f -qq -o "$trace" -e trace=sendto,recvmsg "$PGT_ISOLATE" "$@" \
    >/dev/null 2>&1 || true
  awk '/NFNL_MSG_BATCH_BEGIN/ { print n + 1; exit } /recvmsg\(/ { n++ }' "$trace"
}
# lose_answers <ns> <recvmsg number> <args...>: the run, with that recvmsg failing.
lose_answers() {
  local ns="$1" when="$2"
  shift 2
  ip netns exec "$ns" strace -f -qq -o /dev/null -e trace=recvmsg \
    -e inject=recvmsg:error=EAGAIN:when="$when" "$PGT_ISOLATE" "$@"
}
# Refused batch, answers lost: the generation read back is unchanged, so nothing was committed.
when="$(first_answer_read "$owned" apply --full --config "$good")"
[ -n "$when" ] || pgt_fail "no batch seen in the trace of the refused apply"
set +e
output="$(lose_answers "$owned" "$when" apply --full --config "$good" 2>&1)"
rc=$?
set -e
pgt_log "refused batch, answers lost: exit $rc: $output"
[ $rc = 3 ] || pgt_fail "apply exit $rc when the answers to a refused batch were lost, want 3"
[[ "$output" == *"answers were lost"*"the ruleset generation is still"*"nothing was committed and the previous ruleset stays in force"* ]] ||
  pgt_fail "a lost answer to a refused batch is not reported as read back: $output"
[ "$(ip netns exec "$owned" nft list ruleset)" = "$owned_before" ] || pgt_fail "the ruleset changed although the kernel refused the batch"
exec 9>&-

# Committed batch, answers lost: the read-back shows the configured table, so apply succeeds and
# says how it knows; the old code reported exit 3, "previous ruleset kept", with the new table
# in force.
dry_ns="$(pgt_ns bad-dry)"
lost_ns="$(pgt_ns bad-lost)"
for each_ns in "$dry_ns" "$lost_ns"; do
  pgt_netns_add "$each_ns"
  ip -n "$each_ns" link set lo up
done
when="$(first_answer_read "$dry_ns" apply --full --config "$good")"
[ -n "$when" ] || pgt_fail "no batch seen in the trace of the apply"
set +e
output="$(lose_answers "$lost_ns" "$when" apply --full --config "$good" 2>&1)"
rc=$?
set -e
pgt_log "committed batch, answers lost: exit $rc: $output"
[ $rc = 0 ] || pgt_fail "apply exit $rc when the answers to a committed batch were lost, want 0"
[[ "$output" == *"the kernel's answers were lost, the table read back is the configured one"* ]] ||
  pgt_fail "apply does not say that the answers were lost and the table read back: $output"
pgt_isolate "$lost_ns" verify "$good" >/dev/null || pgt_fail "the table read back as applied does not verify"

# The table committed, then a sysctl refused (a read-only /proc/sys file): the new table is in
# force, so this is neither success nor "previous ruleset kept" (exit 3) but incomplete, 6.
sysctl_ns="$(pgt_ns bad-sysctl)"
pgt_netns_add "$sysctl_ns"
ip -n "$sysctl_ns" link set lo up
ip netns exec "$sysctl_ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
set +e
output="$(ip netns exec "$sysctl_ns" unshare -m --propagation private sh -c '
  f=/proc/sys/net/ipv4/conf/all/rp_filter
  mount --bind "$f" "$f" && mount -o remount,bind,ro "$f" || exit 99
  exec "$0" apply --config "$1"' "$PGT_ISOLATE" "$good" 2>&1)"
rc=$?
set -e
pgt_log "sysctl refused after the commit: exit $rc: $output"
[ $rc != 99 ] || pgt_fail "could not make rp_filter read-only for the test"
[ $rc = 6 ] || pgt_fail "apply exit $rc when a sysctl was refused after the commit, want 6"
[[ "$output" == *"created ("*"), and it is in force; but the sysctls were not all written: "*"net.ipv4.conf.all.rp_filter"*"Read-only file system"* ]] ||
  pgt_fail "the message does not say the table is in force and which sysctl failed: $output"
ip netns exec "$sysctl_ns" nft list table inet "$PGT_TABLE" >/dev/null ||
  pgt_fail "the table reported in force is not there"

# Files that are no configuration: refused at once with exit 2 naming the file type, never
# waited on (a FIFO without a writer blocked open() forever) or read without end (/dev/zero).
# `timeout` turns a hang into a failure; the memory ceiling keeps a regression from taking the
# machine's memory.
check_refused_file() {  # NAME FILE FRAGMENT
  local name="$1" file="$2" fragment="$3" subcommand rc output
  cases=$((cases + 1))
  for subcommand in apply verify show; do
    set +e
    output="$(timeout 10 prlimit --as=$((1 << 30)) ip netns exec "$ns" "$PGT_ISOLATE" \
      "$subcommand" --config "$file" 2>&1 >/dev/null)"
    rc=$?
    set -e
    if [ $rc != 2 ] || [[ "$output" != *"$fragment"* ]]; then
      echo "  case $name: $subcommand exit $rc (124 means it blocked), want 2 and '$fragment': $output"
      failures=$((failures + 1))
      return
    fi
  done
  [ "$(ip netns exec "$ns" nft list ruleset)" = "$ruleset_before" ] || {
    echo "  case $name: the ruleset changed"
    failures=$((failures + 1))
    return
  }
  echo "  ok: $name -> $output"
}
mkfifo "$PGT_WORK/fifo.conf"
check_refused_file fifo "$PGT_WORK/fifo.conf" "$PGT_WORK/fifo.conf: not a regular file (a FIFO)"
check_refused_file dev-zero /dev/zero "/dev/zero: not a regular file (a character device)"
check_refused_file directory "$PGT_WORK" "$PGT_WORK: not a regular file (a directory)"
# 16 MiB and a byte of blank lines: used to end in std::bad_alloc, reported as exit 3.
head -c $(((16 << 20) + 1)) /dev/zero | tr '\0' '\n' >"$PGT_WORK/oversize.conf"
check_refused_file oversize "$PGT_WORK/oversize.conf" \
  "$PGT_WORK/oversize.conf: the file is 16777217 bytes, more than the 16 MiB such a file may have"
rm -f "$PGT_WORK/oversize.conf"
# A NUL inside a value is refused with file, line and key (issue 18, item 16).
sed -E "s/^(member = standby $m4\.12)$/\1\x00x/" "$good" >"$PGT_WORK/nul.conf"
nul_line="$(grep -anE "^member = standby $m4\.12" "$PGT_WORK/nul.conf" | cut -d: -f1)"
[ -n "$nul_line" ] && ! cmp -s "$good" "$PGT_WORK/nul.conf" || pgt_fail "could not write the NUL case"
check_rejected nul-in-value member "$PGT_WORK/nul.conf:$nul_line" "$PGT_WORK/nul.conf" \
  "control character 0x00 (NUL) at column 29"

# Out of memory: its own exit code and message. 100,000 members need ~28 MB, the good file less
# than 8 MB; under a 16 MB ceiling only the first fails.
{
  echo "self = 198.18.0.1"
  echo "member = master 198.18.0.1"
  seq 2 100001 | awk '{ printf "member = standby 198.%d.%d.%d\n", 18 + int($1 / 65536), int($1 / 256) % 256, $1 % 256 }'
  printf '[control]\ncidr = 198.20.128.0/24\n[service_network]\ncidr = 198.18.0.0/15\n'
} >"$PGT_WORK/members-100000.conf"
set +e
output="$(prlimit --as=$((16 << 20)) "$PGT_ISOLATE" show --config "$PGT_WORK/members-100000.conf" 2>&1 >/dev/null)"
rc=$?
set -e
pgt_log "out of memory: exit $rc: $output"
[ $rc = 5 ] && [[ "$output" == "pgguard-isolate: "*"out of memory"* ]] ||
  pgt_fail "show under a 16 MB ceiling: exit $rc, want 5 and 'out of memory': $output"
prlimit --as=$((16 << 20)) "$PGT_ISOLATE" show --config "$good" >/dev/null ||
  pgt_fail "show of the good file fails under the 16 MB ceiling: the ceiling is too low to prove anything"
"$PGT_ISOLATE" show --config "$PGT_WORK/members-100000.conf" >/dev/null ||
  pgt_fail "the 100,000-member file is not valid"

pgt_log "bad-input cases: $cases, failed $failures"
[ $failures = 0 ] || pgt_fail "$failures bad-input case(s) misbehaved"
# Our table survived every bad file untouched: with the hand-made sysctl drift undone, the
# kernel is in sync with the good config again.
ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.rp_filter=1 net.ipv4.conf.eth0.accept_redirects=0
pgt_isolate "$ns" verify "$good" || pgt_fail "the table applied before the bad files is no longer in sync"
pgt_log "PASS"
