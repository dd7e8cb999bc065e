#!/usr/bin/env bash
# Bad configuration files, given to `apply` (and `verify`, `show`) in a namespace where our table
# is already applied next to another program's table: each must exit 2 with "file:line: key:" in
# the message, and leave the kernel's ruleset byte for byte as it was, and the hardening sysctls
# as they were. Then a good file the kernel refuses: exit 3, the kernel's error, nothing changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/lib/topology.sh"
source "$here/lib/isolation.sh"

require_nftables
pgt_find_isolate

topology_trap
PGT_WORK="$(mktemp -d /tmp/pgt-work.XXXXXX)"
topology_cleanup_stale
ns=pgt-bad
ip netns add "$ns"
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

check_rejected() {
  local name="$1" key="$2" where="$3" file="$4" subcommand rc output ok=1
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
owned=pgt-bad-owned
ip netns add "$owned"
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
exec 9>&-

pgt_log "bad-input cases: $cases, failed $failures"
[ $failures = 0 ] || pgt_fail "$failures bad-input case(s) misbehaved"
# Our table survived every bad file untouched: with the hand-made sysctl drift undone, the
# kernel is in sync with the good config again.
ip netns exec "$ns" sysctl -qw net.ipv4.conf.eth0.rp_filter=1 net.ipv4.conf.eth0.accept_redirects=0
pgt_isolate "$ns" verify "$good" || pgt_fail "the table applied before the bad files is no longer in sync"
pgt_log "PASS"
