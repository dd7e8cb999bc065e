#!/usr/bin/env bash
# Runs inside a benchmark namespace: timeit.sh <reps> <prepare> <command>
# Evaluates <prepare> (untimed), then times <command> as a whole process (fork + exec + exit),
# <reps> times; prints one sample per line in milliseconds. A failing command aborts the run:
# a fast failure must never pass for a fast apply.
set -euo pipefail
reps="$1" prepare="$2" command="$3"
for ((i = 0; i < reps; i++)); do
  eval "$prepare" >/dev/null 2>&1 || true
  start=$EPOCHREALTIME
  if ! eval "$command" >/dev/null 2>/tmp/pgt-bench-timeit.err; then
    echo "timeit: command failed: $command" >&2
    cat /tmp/pgt-bench-timeit.err >&2
    exit 1
  fi
  end=$EPOCHREALTIME
  # EPOCHREALTIME is seconds.microseconds: subtract as integers of microseconds.
  echo "$(( (${end/./} - ${start/./}) ))" | awk '{printf "%.3f\n", $1 / 1000}'
done
