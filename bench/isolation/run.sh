#!/usr/bin/env bash
# Isolation benchmark (issue 3): pgguard-isolate against nft -f and iptables-restore, side by
# side in one run, medians, all inside network namespaces created and removed here (prefix
# pgt-bench-). Not a test: it prints numbers and the issue's targets; see bench/README.md.
#
#   bench/isolation/run.sh [--isolate PATH] [--sizes "10 1000 10000 100000"] [--seconds S]
#                          [--bulk-seconds S] [--rounds R] [--variants]
#
# --variants adds to the packet path four rewrites of our ruleset (bench/isolation/variants.py)
# that take it apart: where does its cost over conntrack alone come from?
#
# Results go to bench/results/isolation-<UTC time>/ (results.md, *.dat, apply-time.png).
set -euo pipefail
shopt -s inherit_errexit

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
isolate="${PGGUARD_ISOLATE:-$root/build/src/programs/isolate/pgguard-isolate}"
sizes="10 1000 10000 100000"
seconds=0.5    # per connection-rate sample
bulk_seconds=1 # per bulk sample (iperf3 takes whole seconds)
profile_seconds=2
path_n=10000
path_reps=40
variants=no
while [ $# -gt 0 ]; do
  case "$1" in
    --isolate) isolate="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --bulk-seconds) bulk_seconds="$2"; shift 2 ;;
    --rounds) path_reps="$2"; shift 2 ;;
    --variants) variants=yes; shift ;;
    *)
      echo "usage: $0 [--isolate PATH] [--sizes \"N...\"] [--seconds S] [--bulk-seconds S] [--rounds R] [--variants]" >&2
      exit 2
      ;;
  esac
done

[[ "$bulk_seconds" =~ ^[1-9][0-9]*$ ]] ||
  { echo "run.sh: --bulk-seconds takes whole seconds (iperf3 -t), got '$bulk_seconds'" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }
for tool in ip nft conntrack iptables-legacy-restore iptables-nft-restore iperf3 gnuplot g++ perf /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: missing $tool (scripts/setup installs it)" >&2; exit 2; }
done
[ -x "$isolate" ] || { echo "run.sh: $isolate not built (cmake --build build --target pgguard-isolate)" >&2; exit 2; }
isolate="$(realpath "$isolate")"

out="$root/bench/results/isolation-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/configs"
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$out/run.log" >&2; }

NS_APPLY=pgt-bench-apply
path_namespaces=()
pids=()
cleanup() {
  local pid ns
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in $NS_APPLY "${path_namespaces[@]}"; do
    if ip netns list | grep -qw "$ns"; then
      for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null || true; done
      # remove also drops pgguard-isolate's per-namespace record in /run.
      ip netns exec "$ns" "$isolate" remove --table secure_postgres >/dev/null 2>&1 || true
      ip netns del "$ns"
    fi
  done
}
trap cleanup EXIT
cleanup

g++ -std=c++20 -O2 -Wall -Wextra -Werror -o "$out/connrate" "$here/connrate.cpp"

# ------------------------------------------------------------------ inputs for N addresses
# The N allowed addresses are the instance's members (the server VM is the master, the rest are
# standbys): members are plain hash sets in our ruleset, so N addresses stay N elements (client
# CIDR lists are interval sets, where consecutive addresses would merge into one range).
# 198.18.0.10 upward: N=100,000 ends at 198.19.134.169, inside 198.18.0.0/15.
SERVER_ADDR=198.18.0.10
address_of() { # address_of <index> -> 198.18.0.10 + index
  local n=$((0xC612000A + $1))
  echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"
}
client_addr() { address_of $(($1 - 1)); } # the last member: last in a linear chain

write_inputs() {
  local n="$1" conf="$out/configs/members-$1.conf"
  /usr/bin/python3 - "$n" "$conf" "$out/configs/iptables-$n.rules" <<'EOF'
import ipaddress, sys
n, conf, rules = int(sys.argv[1]), sys.argv[2], sys.argv[3]
base = ipaddress.IPv4Address("198.18.0.10")
members = [str(base + i) for i in range(n)]
with open(conf, "w") as f:
    f.write("# bench: N=%d members (the first is this VM, the master)\n" % n)
    f.write("self = %s\n" % members[0])
    f.write("member = master %s\n" % members[0])
    f.writelines("member = standby %s\n" % m for m in members[1:])
    f.write("[control]\ncidr = 198.19.255.240/28\n[service_network]\ncidr = 198.18.0.0/15\n")
with open(rules, "w") as f:
    # The equivalent stateful iptables ruleset, one rule per address, in member order.
    f.write("*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
    f.write("-A INPUT -i lo -j ACCEPT\n")
    f.write("-A INPUT -m conntrack --ctstate INVALID -j DROP\n")
    f.write("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
    f.write("-A INPUT -s 198.19.255.240/28 -p tcp -m tcp --dport 22 -j ACCEPT\n")
    f.writelines("-A INPUT -s %s/32 -p tcp -m tcp --dport 5432 -j ACCEPT\n" % m for m in members)
    f.write("COMMIT\n")
EOF
  "$isolate" show --config "$conf" >"$out/configs/nft-$n.nft"
}
printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' >"$out/configs/iptables-empty.rules"

median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# timed <ns> <reps> <prepare> <command> -> median ms; the samples go to the log.
timed() {
  local samples
  samples="$(ip netns exec "$1" bash "$here/timeit.sh" "$2" "$3" "sample" "$4" | cut -d' ' -f3)"
  echo "    samples: $(echo $samples)" >>"$out/run.log"
  echo "$samples" | median
}

tool_median() { # tool_median <samples file> <tool> -> median ms
  awk -v tool="$2" '$2 == tool {print $3}' "$1" | median
}

reps_for() {
  case "$1" in
    10 | 100) echo 15 ;;
    1000) echo 11 ;;
    10000) echo 7 ;;
    *) echo 5 ;;
  esac
}

# ------------------------------------------------------------------ apply time
ip netns add "$NS_APPLY"
ip -n "$NS_APPLY" link set lo up
# The floor under every whole-process time on this machine right now: fork, exec, exit.
t_true="$(timed $NS_APPLY 15 ":" "/bin/true")"
echo "$t_true" >"$out/process-floor.dat"
log "process floor (/bin/true, whole process): $t_true ms"
cut -d' ' -f1-3 /proc/loadavg >"$out/loadavg-start"
echo "# N isolate nft iptables_nft iptables_legacy reapply verify" >"$out/apply.dat"
for n in $sizes; do
  log "apply time, N=$n: generating inputs"
  write_inputs "$n"
  conf="$out/configs/members-$n.conf"
  reps="$(reps_for "$n")"
  # One clean slate before every sample, whichever tool ran before: no table of ours or of
  # iptables-nft, an empty iptables-legacy filter table.
  clean="'$isolate' remove --table secure_postgres; nft flush ruleset; iptables-legacy-restore < '$out/configs/iptables-empty.rules'"
  log "  apply, nft -f, iptables-nft-restore, iptables-legacy-restore: $reps rounds, interleaved"
  ip netns exec $NS_APPLY bash "$here/timeit.sh" "$reps" "$clean" \
    isolate "'$isolate' apply --config '$conf'" \
    nft "nft -f '$out/configs/nft-$n.nft'" \
    iptables_nft "iptables-nft-restore < '$out/configs/iptables-$n.rules'" \
    iptables_legacy "iptables-legacy-restore < '$out/configs/iptables-$n.rules'" >"$out/apply-$n.samples"
  sed 's/^/    /' "$out/apply-$n.samples" >>"$out/run.log"
  t_isolate="$(tool_median "$out/apply-$n.samples" isolate)"
  t_nft="$(tool_median "$out/apply-$n.samples" nft)"
  t_ipt_nft="$(tool_median "$out/apply-$n.samples" iptables_nft)"
  t_ipt_legacy="$(tool_median "$out/apply-$n.samples" iptables_legacy)"
  ip netns exec $NS_APPLY bash -c "$clean" >/dev/null 2>&1
  log "  re-apply unchanged and verify"
  ip netns exec $NS_APPLY "$isolate" apply --config "$conf" >/dev/null
  # A few milliseconds each: enough runs for a stable median at every N.
  t_reapply="$(timed $NS_APPLY 21 ":" "'$isolate' apply --config '$conf'")"
  t_verify="$(timed $NS_APPLY 21 ":" "'$isolate' verify --config '$conf'")"
  ip netns exec $NS_APPLY "$isolate" remove --table secure_postgres >/dev/null
  echo "$n $t_isolate $t_nft $t_ipt_nft $t_ipt_legacy $t_reapply $t_verify" >>"$out/apply.dat"
  log "  N=$n: isolate $t_isolate ms, nft -f $t_nft ms, iptables-nft $t_ipt_nft ms, iptables-legacy $t_ipt_legacy ms, re-apply unchanged $t_reapply ms, verify $t_verify ms"
done
ip netns exec $NS_APPLY "$isolate" remove --table secure_postgres >/dev/null
ip netns del $NS_APPLY

# ------------------------------------------------------------------ packet path
# One server/client namespace pair per scenario, identical addressing, rules loaded once: no
# ruleset is torn down between samples (the kernel frees a 10,000-element set or chain in a
# kworker, which competed with the next sample). The servers stay up for the whole phase.
# Every round measures each scenario once, in an order rotating from round to round, and each
# scenario's ratio to "no rules" is taken within the round (paired). Samples are short and rounds
# many: the two samples of a pair run about a second apart, under nearly the same load from the
# machine's other tenants, and forty pairs give the median a confidence interval narrow enough
# to mean something (the report prints it).
log "packet path: N=$path_n, client = the last member ($(client_addr $path_n)), $path_reps rounds" \
  "of ${seconds}s connection samples (graceful, reset), then of ${bulk_seconds}s bulk samples"
[ -f "$out/configs/members-$path_n.conf" ] || write_inputs "$path_n"
cat >"$out/configs/conntrack-only.nft" <<'EOF'
# Reference: the least a stateful firewall does (conntrack on, three rules).
table inet pgt_bench_conntrack {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state invalid drop
		ct state established,related accept
		tcp dport 5432 accept
	}
}
EOF
scenarios="none isolate conntrack-only iptables-legacy iptables-nft"
if [ $variants = yes ]; then
  for variant in fib-new-flows input-only issue-order untracked; do
    "$isolate" show --config "$out/configs/members-$path_n.conf" |
      /usr/bin/python3 "$here/variants.py" $variant >"$out/configs/variant-$variant.nft"
    scenarios+=" variant-$variant"
  done
fi
read -ra scenario_list <<<"$scenarios"
for scenario in "${scenario_list[@]}"; do
  srv="pgt-bench-srv-$scenario" cli="pgt-bench-cli-$scenario"
  path_namespaces+=("$srv" "$cli")
  ip netns add "$srv"
  ip netns add "$cli"
  ip -n "$srv" link add eth0 type veth peer name eth0 netns "$cli"
  ip -n "$srv" addr add "$SERVER_ADDR/15" dev eth0
  ip -n "$cli" addr add "$(client_addr $path_n)/15" dev eth0
  for ns in "$srv" "$cli"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
  done
  ip netns exec "$cli" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
  # Graceful closes leave the client's ports in TIME_WAIT; a load generator reuses them.
  ip netns exec "$cli" sysctl -qw net.ipv4.tcp_tw_reuse=1
  case "$scenario" in
    none) ;;
    isolate) ip netns exec "$srv" "$isolate" apply --config "$out/configs/members-$path_n.conf" >/dev/null ;;
    conntrack-only) ip netns exec "$srv" nft -f "$out/configs/conntrack-only.nft" ;;
    iptables-legacy) ip netns exec "$srv" iptables-legacy-restore <"$out/configs/iptables-$path_n.rules" ;;
    iptables-nft) ip netns exec "$srv" iptables-nft-restore <"$out/configs/iptables-$path_n.rules" ;;
    variant-*) ip netns exec "$srv" nft -f "$out/configs/$scenario.nft" ;;
  esac
done

# Every sample starts with an empty conntrack table in its server namespace: a connection
# sample leaves thousands of closed entries (kept 10 s after the RST, 120 s in TIME_WAIT, and in
# the hash until the garbage collector gets to them), and the kernel's conntrack hash is shared
# by all namespaces, so without the flush a sample could run against the leftovers of the
# samples before it, of every stateful scenario. Measured with three scenarios, 2 s samples ~8 s
# apart, 6 and 10 paired rounds: ours 0.75x of no rules without the flush, 0.85x with it;
# conntrack-only 0.83x, 0.88x.
flush_conntrack() { # flush_conntrack <scenario>
  ip netns exec "pgt-bench-srv-$1" conntrack -F >/dev/null 2>&1 ||
    [ "$1" = none ] || { echo "run.sh: conntrack -F failed in pgt-bench-srv-$1" >&2; exit 1; }
}

servers=()
start_servers() { # start_servers connrate|iperf3: one server per scenario, all on port 5432
  local scenario
  for scenario in "${scenario_list[@]}"; do
    case "$1" in
      connrate) ip netns exec "pgt-bench-srv-$scenario" "$out/connrate" server 5432 >/dev/null & ;;
      iperf3) ip netns exec "pgt-bench-srv-$scenario" iperf3 -s -p 5432 >/dev/null 2>&1 & ;;
    esac
    servers+=($!)
    pids+=($!)
  done
  sleep 0.5
}
stop_servers() {
  local pid
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  servers=()
}

# With PROFILE set to a file name, the client's run is sampled by `perf record -a -g` into it.
profiled() {
  if [ -n "${PROFILE:-}" ]; then
    perf record -q -a -g -o "$PROFILE" -- "$@" 2>/dev/null
  else
    "$@"
  fi
}

conn_rate() { # conn_rate <scenario> graceful|reset <seconds> -> completed connections per second
  flush_conntrack "$1"
  local result
  result="$(profiled ip netns exec "pgt-bench-cli-$1" "$out/connrate" client "$SERVER_ADDR" 5432 "$3" 32 "$2")"
  echo "    connrate $1 $2: $result (rate failed)" >>"$out/run.log"
  echo "${result%% *}"
}

bulk() { # bulk <scenario> <seconds> -> bits per second received
  flush_conntrack "$1"
  local bps
  bps="$(profiled ip netns exec "pgt-bench-cli-$1" iperf3 -c "$SERVER_ADDR" -p 5432 -t "$2" -J |
    /usr/bin/python3 -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])')"
  echo "    bulk $1: $bps bit/s" >>"$out/run.log"
  echo "$bps"
}

rotated() { # rotated <round> -> the scenarios, starting at a different one each round
  local shift_by=$((($1 - 1) % ${#scenario_list[@]}))
  echo "${scenario_list[@]:shift_by}" "${scenario_list[@]:0:shift_by}"
}

start_servers connrate
echo "# round scenario graceful_conn_per_s reset_conn_per_s" >"$out/conn.dat"
for ((round = 1; round <= path_reps; round++)); do
  for scenario in $(rotated $round); do
    graceful="$(conn_rate "$scenario" graceful "$seconds")"
    reset="$(conn_rate "$scenario" reset "$seconds")"
    echo "$round $scenario $graceful $reset" >>"$out/conn.dat"
  done
  if ((round % 10 == 0 || round == path_reps)); then log "  connections: $round of $path_reps rounds done"; fi
done
log "packet path: CPU profile (perf record -a -g), one ${profile_seconds}s connection sample per ruleset"
echo "# scenario load busy_pct hooks_pct rules_pct conntrack_pct" >"$out/profile.dat"
profile() { # profile <scenario> conn|bulk
  local data="$out/perf-$1-$2.data"
  case $2 in
    conn) PROFILE="$data" conn_rate "$1" graceful "$profile_seconds" >/dev/null ;;
    bulk) PROFILE="$data" bulk "$1" "$profile_seconds" >/dev/null ;;
  esac
  perf report -i "$data" --children --sort sym --stdio -g none 2>/dev/null |
    /usr/bin/python3 "$here/cpu_shares.py" "$1" "$2" >>"$out/profile.dat"
  rm -f "$data"
}
# Where the CPU goes: shares of the sampled busy time are ratios within one sample, so a
# neighbour slowing the whole machine down moves them far less than it moves the rates.
for scenario in "${scenario_list[@]}"; do
  [ "$scenario" = none ] || profile "$scenario" conn
done
stop_servers

start_servers iperf3
echo "# round scenario bulk_bps" >"$out/bulk.dat"
for ((round = 1; round <= path_reps; round++)); do
  for scenario in $(rotated $round); do
    bps="$(bulk "$scenario" "$bulk_seconds")"
    echo "$round $scenario $bps" >>"$out/bulk.dat"
  done
  if ((round % 10 == 0 || round == path_reps)); then log "  bulk: $round of $path_reps rounds done"; fi
done
log "packet path: CPU profile, one ${profile_seconds}s bulk sample per ruleset"
for scenario in "${scenario_list[@]}"; do
  [ "$scenario" = none ] || profile "$scenario" bulk
done
stop_servers
for ns in "${path_namespaces[@]}"; do
  ip netns exec "$ns" "$isolate" remove --table secure_postgres >/dev/null 2>&1 || true
  ip netns del "$ns"
done
path_namespaces=()

# ------------------------------------------------------------------ report
/usr/bin/python3 - "$out" "$path_n" "$here" <<'EOF' | tee "$out/results.md"
import sys
out, path_n = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
import paired
from paired import BULK, GRACEFUL, NAMES, RESET, mark
def rows(name):
    return paired.rows(f"{out}/{name}")
import statistics
floor = float(open(f"{out}/process-floor.dat").read())
print("## Apply time (whole process, median ms)\n")
print("The four tools run interleaved, in a rotating order, each after a clean slate; "
      "`nft -f / ours` is the median of the per-round ratios.\n")
print("| N | pgguard-isolate apply | nft -f | iptables-nft-restore | iptables-legacy-restore "
      "| nft -f / ours | target | re-apply unchanged | < 5 ms | verify |")
print("|---:|---:|---:|---:|---:|---:|---|---:|---|---:|")
def paired_apply(n):
    """Median over rounds of nft -f / ours, both timed in the same round."""
    by_round = {}
    for r, tool, ms in (l.split() for l in open(f"{out}/apply-{n}.samples") if l.strip()):
        by_round.setdefault(r, {})[tool] = float(ms)
    return statistics.median(v["nft"] / v["isolate"] for v in by_round.values())
if not rows("apply.dat"):
    print("| not measured in this run (`--sizes \"\"`) |||||||||")
for n, iso, nft, iptn, iptl, reap, ver in rows("apply.dat"):
    n, iso, nft, iptn, iptl, reap, ver = int(n), *map(float, (iso, nft, iptn, iptl, reap, ver))
    ratio = paired_apply(n)
    need = 1.5 if n >= 10000 else 1.0
    print(f"| {n:,} | {iso:.1f} | {nft:.1f} | {iptn:.1f} | {iptl:.1f} | {ratio:.2f}x "
          f"| >{need:.1f}x: {mark(ratio > need if need == 1.0 else ratio >= need)} "
          f"| {reap:.2f} ({reap - floor:+.2f} over /bin/true) | {mark(reap < 5)} | {ver:.2f} |")
load = open(f"{out}/loadavg-start").read().strip()
print(f"\nProcess floor: `/bin/true` took {floor:.2f} ms (median, same method): the part of every "
      f"time above that is not the tool's own. Load average at the start: {load} (2 cores, shared).")
samples = paired.load([out])
def path_ratio(scenario, reference, k):
    return paired.Ratio(samples, scenario, reference, k)
rounds = len(samples["none"])
print(f"\n## Packet path (N = {int(path_n):,}, client matched last where order matters)\n")
print(f"{rounds} rounds of short samples; each round runs every scenario once, in a rotating "
      "order. A ratio is the median of the per-round ratios (paired: the two samples run about "
      "a second apart, under nearly the same load), with its 95 % bootstrap interval in "
      "parentheses; raw columns "
      "are medians. New connections are counted twice: closed gracefully (FIN, as PostgreSQL "
      "clients and pgpool close them: the targets' measure) and reset (RST, the cheapest "
      "connection there is).\n")
print("| ruleset | conn/s, graceful close | vs no rules | conn/s, reset | vs no rules "
      "| bulk Gbit/s | vs no rules |")
print("|---|---:|---:|---:|---:|---:|---:|")
for key in samples:
    print(f"| {NAMES[key]} | {paired.median_of(samples, key, GRACEFUL):,.0f} | {path_ratio(key, 'none', GRACEFUL)} "
          f"| {paired.median_of(samples, key, RESET):,.0f} | {path_ratio(key, 'none', RESET)} "
          f"| {paired.median_of(samples, key, BULK) / 1e9:.2f} | {path_ratio(key, 'none', BULK)} |")
print("\n### Where the CPU goes (perf record -a -g, one sample each)\n")
print("Shares of the sampled busy CPU time, inclusive of what each part calls: all netfilter "
      "hooks (`nf_hook_slow`), the rule evaluator (`nft_do_chain_inet` for our table and the "
      "reference, `nft_do_chain_ipv4` for iptables-nft, `ipt_do_table` for iptables-legacy), "
      "conntrack (`nf_conntrack_in` + `nf_confirm`). Shares within one sample move far less with "
      "the machine's load than rates do; what they leave out (allocator, RCU, cache misses "
      "elsewhere) is why a rate ratio sits below 1 minus the hooks' share.\n")
print("| ruleset | load | netfilter hooks | of which rules | of which conntrack |")
print("|---|---|---:|---:|---:|")
profile = {}
for scenario, load, busy, hooks, rules_pct, conntrack in rows("profile.dat"):
    profile[(scenario, load)] = float(hooks)
    print(f"| {NAMES[scenario]} | {'graceful connections' if load == 'conn' else 'bulk'} "
          f"| {float(hooks):.1f} % | {float(rules_pct):.1f} % | {float(conntrack):.1f} % |")
conn_vs_none = path_ratio("isolate", "none", GRACEFUL)
bulk_vs_none = path_ratio("isolate", "none", BULK)
vs_legacy = path_ratio("isolate", "iptables-legacy", GRACEFUL)
vs_nftlin = path_ratio("isolate", "iptables-nft", GRACEFUL)
print("\n## Targets (issue 3)\n")
print(f"- connection rate with our rules >= 0.90x of no rules: {conn_vs_none.against(0.90)} "
      f"(conntrack alone: {path_ratio('conntrack-only', 'none', GRACEFUL)}; with reset connections "
      f"ours {path_ratio('isolate', 'none', RESET)}, conntrack alone {path_ratio('conntrack-only', 'none', RESET)})")
print(f"- connection rate >= 1.6x of the linear iptables chain: legacy {vs_legacy.against(1.6)}; "
      f"iptables-nft {vs_nftlin.against(1.6)}")
print(f"- bulk throughput >= 0.98x of no rules: {bulk_vs_none.against(0.98)} "
      f"(conntrack alone: {path_ratio('conntrack-only', 'none', BULK)})")
EOF

# --sizes "" skips the apply times (a packet-path-only run): nothing to plot then.
if [ "$(awk '!/^#/' "$out/apply.dat" | wc -l)" -gt 0 ]; then
  gnuplot <<EOF
set terminal pngcairo size 900,600
set output "$out/apply-time.png"
set title "Whole-process apply time vs allowed addresses (median)"
set logscale xy
set xrange [5:200000]
set xlabel "N allowed addresses"
set ylabel "ms"
set key top left
set grid
plot "$out/apply.dat" using 1:2 with linespoints title "pgguard-isolate apply", \
     "" using 1:3 with linespoints title "nft -f", \
     "" using 1:4 with linespoints title "iptables-nft-restore", \
     "" using 1:5 with linespoints title "iptables-legacy-restore", \
     "" using 1:6 with linespoints title "pgguard-isolate re-apply unchanged"
EOF
  log "results: $out/results.md, plot: $out/apply-time.png"
else
  log "results: $out/results.md"
fi
