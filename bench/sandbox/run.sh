#!/bin/bash
# Sandbox benchmark (not a test; never assert timings in CTest). Side by side, in one run:
#  1. launch overhead of /bin/true: directly, under pgguard-launch with the full postgres
#     server profile (precompiled BPF, and compiled in memory), under setpriv (user switch +
#     no_new_privs), bwrap --unshare-all, firejail --noprofile; medians of many interleaved runs
#  2. pgbench TPS against two identical PostgreSQL 15 clusters running at once, one
#     sandboxed (postgres-server profile, BPF file), one unsandboxed (setpriv to postgres):
#     select-only and tpcb-like, fixed duration, several rounds, runs alternating;
#  3. what the seccomp filter adds to each system call (interleaved runs of a loop of cheap
#     calls, sandboxed and not) and how many system calls a transaction makes in the postgres
#     processes (strace -c -f), which bound the filter's share of a transaction more finely
#     than the TPS rounds can resolve on a shared machine.
# Prints a markdown table with ratios and the issue's targets, and writes it with the raw
# data to bench/results/ (gitignored).
# Usage (root): bench/sandbox/run.sh [BUILD_DIR]   env: ROUNDS=5 DURATION=8 RUNS=300 COST_RUNS=30
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-$ROOT/build}
LAUNCH=$BUILD/src/programs/launch/pgguard-launch
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-8}
RUNS=${RUNS:-300}
COST_RUNS=${COST_RUNS:-30}
PORT=55470
TESTS=$ROOT/tests/integration/sandbox

[ "$(id -u)" -eq 0 ] || {
  echo "run as root" >&2
  exit 1
}
[ -x "$LAUNCH" ] || {
  echo "no launcher at $LAUNCH: build first (cmake --build $BUILD)" >&2
  exit 1
}
for tool in setpriv bwrap firejail strace g++ /usr/bin/python3; do
  command -v "$tool" >/dev/null || {
    echo "missing $tool (apt-get install bubblewrap firejail util-linux strace g++ python3)" >&2
    exit 1
  }
done
# shellcheck source=../../tests/integration/sandbox/lib/pg.sh
source "$TESTS/lib/pg.sh"
# shellcheck source=../../tests/integration/sandbox/lib/render.sh
source "$TESTS/lib/render.sh"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"
REPORT=$RESULTS/sandbox-$STAMP.md
SB_WORK=$(mktemp -d /tmp/pgguard-sbtest-bench.XXXXXX)
chmod 755 "$SB_WORK"
SB_SOCK=$SB_WORK/run
install -d -o postgres -g postgres -m 755 "$SB_SOCK"
DATA=$SB_WORK/data
cleanup() {
  sb_stop_postgres "$DATA" 2>/dev/null || true
  rm -rf "$SB_WORK"
}
trap cleanup EXIT

mkdir -p "$SB_WORK"/{conf,tools,scratch,archive,log-$PORT}
chown postgres:postgres "$SB_WORK"/{scratch,archive,log-$PORT}
install -d -o postgres -g postgres -m 700 "$DATA"
sb_render "$ROOT/src/profiles/postgres-server.conf.in" "$SB_WORK/server.conf" USER=postgres \
  GROUP=postgres DATA_DIR="$DATA" SOCKET_DIR="$SB_SOCK" LOG_DIR="$SB_WORK/log-$PORT" \
  ARCHIVE_DIR="$SB_WORK/archive" SCRATCH_DIR="$SB_WORK/scratch" CONF_DIR="$SB_WORK/conf" \
  PORT="$PORT" CONNECT_PORTS="$PORT"
"$LAUNCH" compile --profile "$SB_WORK/server.conf" --output "$SB_WORK/server.bpf" >/dev/null
# In a directory of its own that a copy of the profile names `execute =` (W^X: the server
# profile executes only /usr and the postgres package); the seccomp policy, and so the BPF
# file, is the server's.
g++ -std=c++20 -O2 -Wall -Wextra -Werror -o "$SB_WORK/tools/syscall_cost" "$HERE/syscall_cost.cpp"
chmod 755 "$SB_WORK/tools" "$SB_WORK/tools/syscall_cost"
{ cat "$SB_WORK/server.conf"; printf '\n[landlock]\nexecute = %s\n' "$SB_WORK/tools"; } >"$SB_WORK/cost.conf"

echo "== launch overhead: $RUNS interleaved rounds of every launcher (after 20 warm-up rounds)" >&2
# Our own loop rather than hyperfine: hyperfine runs each command's runs back to back, so on a
# shared machine a load change between commands biases the comparison. Here every round runs
# each launcher once, in a rotating order, and the medians compare runs close in time.
# posix_spawn + waitpid, timed with a monotonic clock; the same spawn cost is in every row.
/usr/bin/python3 - "$RUNS" "$SB_WORK/launch.json" \
  "direct" "/bin/true" \
  "pgguard-launch (postgres profile, BPF file)" \
  "$LAUNCH run --profile $SB_WORK/server.conf --seccomp-bpf $SB_WORK/server.bpf -- /bin/true" \
  "pgguard-launch (postgres profile, filter compiled)" \
  "$LAUNCH run --profile $SB_WORK/server.conf -- /bin/true" \
  "setpriv (user switch + no_new_privs)" \
  "/usr/bin/setpriv --reuid=postgres --regid=postgres --clear-groups --no-new-privs /bin/true" \
  "bwrap --unshare-all" "/usr/bin/bwrap --unshare-all --ro-bind / / /bin/true" \
  "firejail --noprofile" "/usr/bin/firejail --quiet --noprofile /bin/true" <<'PYEOF2'
import json, os, sys, time
runs, output = int(sys.argv[1]), sys.argv[2]
pairs = list(zip(sys.argv[3::2], sys.argv[4::2]))
devnull = os.open("/dev/null", os.O_RDWR)
actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
           (os.POSIX_SPAWN_DUP2, devnull, 2)]
times = {name: [] for name, _ in pairs}
for round_number in range(runs + 20):
    shift = round_number % len(pairs)
    for name, command in pairs[shift:] + pairs[:shift]:
        argv = command.split()
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, {}, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter_ns() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{name}: exit status {os.waitstatus_to_exitcode(status)}")
        if round_number >= 20:
            times[name].append(elapsed / 1e9)
json.dump({"results": [{"command": name, "times": times[name]} for name, _ in pairs]},
          open(output, "w"))
PYEOF2
cp "$SB_WORK/launch.json" "$RESULTS/sandbox-$STAMP-launch.json"

echo "== pgbench: $ROUNDS rounds x {select-only, tpcb-like} x {sandboxed, unsandboxed}, ${DURATION}s each" >&2
# Two identical clusters run at once, one sandboxed and one not, and the pgbench runs
# alternate between them within each round (the order swapping every round): on a shared
# machine the load drifts, and only runs close in time are comparable. The ratio reported
# is the median of the per-round ratios.
DATA_UN=$SB_WORK/data-unsandboxed
PORT_UN=$((PORT + 1))
install -d -o postgres -g postgres -m 700 "$DATA_UN"
mkdir -p "$SB_WORK/log-$PORT_UN"
chown postgres:postgres "$SB_WORK/log-$PORT_UN"
for entry in "$DATA:$PORT" "$DATA_UN:$PORT_UN"; do
  dir=${entry%%:*}
  sb_as_postgres "$SB_PGBIN/initdb" -D "$dir" -U postgres --auth=trust --locale=C.UTF-8 -E UTF8 \
    >/dev/null
  sb_write_pg_conf "$dir" "${entry#*:}"
  # The benchmark measures the sandbox, not archiving: keep WAL archiving out of the loop.
  printf 'archive_mode = off\nshared_buffers = 128MB\n' >>"$dir/postgresql.conf"
done
trap 'sb_stop_postgres "$DATA_UN" 2>/dev/null || true; cleanup' EXIT

"$LAUNCH" run --profile "$SB_WORK/server.conf" --seccomp-bpf "$SB_WORK/server.bpf" -- \
  "$SB_PGBIN/postgres" -D "$DATA" >>"$SB_WORK/server.out" 2>&1 &
setpriv --reuid=postgres --regid=postgres --init-groups -- \
  env -i LANG=C.UTF-8 PATH=/usr/bin:/bin "$SB_PGBIN/postgres" -D "$DATA_UN" \
  >>"$SB_WORK/server-unsandboxed.out" 2>&1 &
sb_wait_ready "$PORT" 60
sb_wait_ready "$PORT_UN" 60
pgbench_on() {  # PORT ARGS...
  local port=$1
  shift
  sb_as_postgres "$SB_PGBIN/pgbench" -h "$SB_SOCK" -p "$port" -U postgres "$@"
}
for port in "$PORT" "$PORT_UN"; do
  pgbench_on "$port" -i -s 10 -q postgres >/dev/null 2>&1
  pgbench_on "$port" -S -c 4 -j 2 -T 2 postgres >/dev/null 2>&1  # warm the cache
done

: >"$SB_WORK/tps.csv"
for round in $(seq "$ROUNDS"); do
  if ((round % 2)); then order="unsandboxed sandboxed"; else order="sandboxed unsandboxed"; fi
  for workload in select-only tpcb-like; do
    flag=()
    [ "$workload" = select-only ] && flag=(-S)
    for mode in $order; do
      port=$PORT
      [ "$mode" = unsandboxed ] && port=$PORT_UN
      tps=$(pgbench_on "$port" "${flag[@]}" -c 4 -j 2 -T "$DURATION" postgres 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p')
      echo "$round,$mode,$workload,$tps" >>"$SB_WORK/tps.csv"
      echo "   round $round $workload $mode: $tps tps" >&2
    done
  done
done

COUNT_TRANSACTIONS=3000  # per client
echo "== system calls per transaction in the sandboxed postgres (strace -c -f, 4 x $COUNT_TRANSACTIONS transactions)" >&2
# Counted after the TPS rounds, never during them: strace slows every traced call down.
postmaster=$(head -1 "$DATA/postmaster.pid")
: >"$SB_WORK/syscalls.csv"
for workload in select-only tpcb-like; do
  flag=()
  [ "$workload" = select-only ] && flag=(-S)
  strace -f -c -q -o "$SB_WORK/strace-$workload.txt" -p "$postmaster" &
  strace_pid=$!
  sleep 1  # attached before the first connection, so every backend is followed
  processed=$(pgbench_on "$PORT" "${flag[@]}" -c 4 -j 2 -t "$COUNT_TRANSACTIONS" postgres 2>/dev/null |
    sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
  sleep 0.5
  kill -INT "$strace_pid"
  wait "$strace_pid" || true
  calls=$(awk '$NF == "total" {print $(NF - 2)}' "$SB_WORK/strace-$workload.txt")
  [ -n "$processed" ] && [ -n "$calls" ] || {
    echo "run.sh: counting system calls of $workload failed" >&2
    exit 1
  }
  echo "$workload,$processed,$calls" >>"$SB_WORK/syscalls.csv"
  echo "   $workload: $calls system calls in $processed transactions" >&2
done
sb_stop_postgres "$DATA"
sb_stop_postgres "$DATA_UN"
cp "$SB_WORK/tps.csv" "$RESULTS/sandbox-$STAMP-tps.csv"

echo "== seccomp filter cost per system call: $COST_RUNS interleaved runs, sandboxed and not" >&2
: >"$SB_WORK/cost.csv"
for run in $(seq "$COST_RUNS"); do
  for mode in unsandboxed sandboxed; do
    if [ "$mode" = sandboxed ]; then
      costs=$("$LAUNCH" run --profile "$SB_WORK/cost.conf" --seccomp-bpf "$SB_WORK/server.bpf" -- \
        "$SB_WORK/tools/syscall_cost" 50000)
    else
      costs=$(setpriv --reuid=postgres --regid=postgres --clear-groups --no-new-privs \
        "$SB_WORK/tools/syscall_cost" 50000)
    fi
    echo "$run,$mode,${costs// /,}" >>"$SB_WORK/cost.csv"
  done
done

/usr/bin/python3 - "$SB_WORK/launch.json" "$SB_WORK/tps.csv" "$SB_WORK/syscalls.csv" \
  "$SB_WORK/cost.csv" "$STAMP" "$(uname -r)" "$("$SB_PGBIN/postgres" --version)" "$RUNS" \
  "$ROUNDS" "$DURATION" "$COST_RUNS" "$(nproc)" >"$REPORT" <<'PYEOF'
import csv, json, statistics, sys
(launch_json, tps_csv, syscalls_csv, cost_csv, stamp, kernel, pg, runs, rounds, duration,
 cost_runs, cpus) = sys.argv[1:]
results = {r["command"]: r for r in json.load(open(launch_json))["results"]}
def median_ms(name):
    return statistics.median(results[name]["times"]) * 1000
direct = median_ms("direct")
setpriv = median_ms("setpriv (user switch + no_new_privs)")
print(f"# Sandbox benchmark {stamp}\n")
print(f"kernel {kernel}; {pg}; 2 vCPU shared; {runs} interleaved rounds (posix_spawn + waitpid), 20 warm-up rounds\n")
print("## Launch overhead of /bin/true (median)\n")
print("| launcher | median ms | vs direct | vs setpriv |")
print("|---|---:|---:|---:|")
for name in results:
    m = median_ms(name)
    print(f"| {name} | {m:.2f} | {m / direct:.2f}x | {m / setpriv:.2f}x |")
ours = median_ms("pgguard-launch (postgres profile, BPF file)")
verdict = "met" if ours <= 1.2 * setpriv else "NOT met"
print(f"\nTarget: full-profile launch (BPF file) within 1.2x of setpriv: "
      f"{ours / setpriv:.2f}x, {verdict}.\n")
rows = list(csv.reader(open(tps_csv)))
print(f"## pgbench TPS ({rounds} rounds, {duration} s each, -c 4 -j 2, scale 10, unix socket; "
      "both clusters up at once, runs alternating)\n")
print("| workload | unsandboxed median | sandboxed median | median of per-round ratios | target >= 0.98 | per-round ratios |")
print("|---|---:|---:|---:|---|---|")
sandboxed_tps = {}
for workload in ("select-only", "tpcb-like"):
    by_round = {}
    for r in rows:
        if r[2] == workload and r[3]:
            by_round.setdefault(r[0], {})[r[1]] = float(r[3])
    pairs = [v for v in by_round.values() if len(v) == 2]
    if not pairs:
        print(f"| {workload} | - | - | - | no data | |")
        continue
    u = statistics.median(p["unsandboxed"] for p in pairs)
    s = statistics.median(p["sandboxed"] for p in pairs)
    ratios = [p["sandboxed"] / p["unsandboxed"] for p in pairs]
    ratio = statistics.median(ratios)
    print(f"| {workload} | {u:.0f} | {s:.0f} | {ratio:.3f} | {'met' if ratio >= 0.98 else 'NOT met'} | "
          + " ".join(f"{x:.3f}" for x in ratios) + " |")
    sandboxed_tps[workload] = s

costs = {"sandboxed": [], "unsandboxed": []}
for run, mode, getppid_ns, write_ns in csv.reader(open(cost_csv)):
    costs[mode].append((float(getppid_ns), float(write_ns)))
def median_of(mode, index):
    return statistics.median(c[index] for c in costs[mode])
print(f"\n## What the seccomp filter adds to a system call ({cost_runs} interleaved runs, "
      "medians of per-run medians)\n")
print("| system call | unsandboxed ns | sandboxed ns | added ns |")
print("|---|---:|---:|---:|")
added = []
for index, name in enumerate(("getppid", "write (fd -1: EBADF, no I/O)")):
    u, s = median_of("unsandboxed", index), median_of("sandboxed", index)
    added.append(s - u)
    print(f"| {name} | {u:.0f} | {s:.0f} | {s - u:.0f} |")
per_call = max(added)
print(f"\n## The filter's share of a transaction ({cpus} CPUs, 4 clients)\n")
print("| workload | system calls per transaction | filter time per transaction | TPS ratio bound |")
print("|---|---:|---:|---:|")
clients = 4
for workload, processed, calls in csv.reader(open(syscalls_csv)):
    per_transaction = int(calls) / int(processed)  # processed counts every client's
    filter_us = per_transaction * per_call / 1000
    # The filter's time is on a transaction's path: CPU-bound, it takes a share of the CPU
    # time per transaction (CPUs / TPS at most); latency-bound, of each client's transaction
    # time (clients / TPS). TPS falls by at most filter time x TPS / min(CPUs, clients).
    share = filter_us * 1e-6 * sandboxed_tps[workload] / min(int(cpus), clients)
    print(f"| {workload} | {per_transaction:.1f} | {filter_us:.2f} us | {1 - share:.4f} |")
print(f"\nFilter cost per call: {per_call:.0f} ns, the larger of the two above; the bound says "
      "what TPS ratio the filter itself can cost, finer than the TPS rounds resolve here.")
PYEOF
cat "$REPORT"
echo "(written to $REPORT)" >&2
