#!/usr/bin/env bash
# The table as the kernel holds it, decoded by nft, against the plan (issue 18, item 6). `verify`
# and the unit tests build their expectations with the same expression encoder as `apply`, so
# a wrong byte offset would pass both; here nft decodes the kernel's expressions with its own
# code. In a namespace of its own, for each configuration in use (docs/examples/isolation.conf,
# the unit tests' postgres-ipv4.conf, the harness's postgres and pgpool configs, and one with
# non-prefix ranges, a single-address client and a larger member list): `show` prints the plan,
# `apply` loads it, `nft -j list table` reads the kernel's table, and lib/nft_rendering.py
# compares the two set by set and rule by rule. Each config is applied first where our table
# does not exist, then all again in a row, each over the previous one's table (the replace and
# refill paths of apply). `verify` must be in sync after each apply, as before.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/lib/topology.sh"
source "$here/lib/isolation.sh"

require_nftables
require_command "$PGT_PYTHON"
pgt_find_isolate

topology_trap
PGT_WORK="$(mktemp -d /tmp/pgt-work.XXXXXX)"
ns="$(pgt_ns render)"
pgt_netns_add "$ns"
ip -n "$ns" link set lo up

configs=(example postgres-ipv4 harness-postgres harness-pgpool ranges keyword-parts)
cp "$PGGUARD_SOURCE_DIR/docs/examples/isolation.conf" "$PGT_WORK/example.conf"
cp "$PGGUARD_SOURCE_DIR/tests/unit/net/data/postgres-ipv4.conf" "$PGT_WORK/postgres-ipv4.conf"
pgt_render_config a master >"$PGT_WORK/harness-postgres.conf"
pgt_render_config a pgpool0 >"$PGT_WORK/harness-pgpool.conf"
# Clients that merge into ranges no prefix describes (198.19.129.0-198.19.130.255 and three
# adjacent IPv6 /52s), one single address, and 40 more members (declared set size 64, not 16).
awk '/^\[clients\]/ && !done { for (i = 100; i < 140; i++) printf "member = standby 198.18.250.%d\n", i; done = 1 }
  { print }
  /^\[clients\]/ { print "cidr = 198.19.129.0/24\ncidr = 198.19.130.0/24\ncidr = 198.19.200.7/32";
                   print "cidr = 2001:db8:2:1000::/52\ncidr = 2001:db8:2:2000::/52" }' \
  "$PGT_WORK/harness-pgpool.conf" >"$PGT_WORK/ranges.conf"
# A table name made of nft keywords joined by '_' (the rule that keeps `show` parseable).
sed 's/^table = .*/table = ip_counter/' "$PGT_WORK/example.conf" >"$PGT_WORK/keyword-parts.conf"

failures=0
# check <name>: apply the config over whatever table the namespace holds, then compare.
check() {
  local name="$1" config="$PGT_WORK/$1.conf" plan="$PGT_WORK/$1.nft" kernel="$PGT_WORK/$1.json"
  local table output
  "$PGT_ISOLATE" show --config "$config" >"$plan"
  table="$(sed -n 's/^table inet \([^ ]*\) {$/\1/p' "$plan")"
  [ -n "$table" ] || pgt_fail "$name: show printed no table"
  # What apply accepts, show prints as text nft itself parses (issue 18, item 18).
  output="$(ip netns exec "$ns" nft -c -f "$plan" 2>&1)" || pgt_fail "$name: nft -c -f refuses show's text: $output"
  output="$(pgt_isolate "$ns" apply "$config" 2>&1)" || pgt_fail "$name: apply failed: $output"
  pgt_isolate "$ns" verify "$config" >/dev/null || pgt_fail "$name: verify right after apply reports drift"
  ip netns exec "$ns" nft -j list table inet "$table" >"$kernel"
  if output="$("$PGT_PYTHON" "$here/lib/nft_rendering.py" "$plan" "$kernel")"; then
    pgt_log "$name: $output"
  else
    echo "FAIL: $name: the kernel's table, as nft decodes it, differs from the plan:" >&2
    sed 's/^/  | /' <<<"$output" >&2
    failures=$((failures + 1))
  fi
}

for name in "${configs[@]}"; do
  check "$name"
  ip netns exec "$ns" "$PGT_ISOLATE" remove --config "$PGT_WORK/$name.conf" >/dev/null
done
pgt_log "each config again, applied over the previous one's table"
for name in "${configs[@]}"; do check "$name"; done

[ "$failures" = 0 ] || pgt_fail "$failures of $((2 * ${#configs[@]})) applies differ from their plan"
pgt_log "PASS"
