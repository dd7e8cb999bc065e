#!/usr/bin/env bash
# Runs inside a benchmark namespace:
#   timeit.sh <reps> <prepare> <name> <command> [<name> <command>...]
# Each repetition runs every command once, in an order rotating from repetition to repetition,
# each after <prepare> (untimed); a command is timed as a whole process (fork + exec + exit).
# Prints "<repetition> <name> <ms>" per sample. Interleaving matters on a shared machine: with
# one tool's runs back to back, a load change between tools biased their comparison. A failing
# command aborts the run: a fast failure must never pass for a fast apply.
set -euo pipefail
reps="$1" prepare="$2"
shift 2
names=() commands=()
while (($# >= 2)); do
  names+=("$1") commands+=("$2")
  shift 2
done
count=${#names[@]}
for ((i = 0; i < reps; i++)); do
  for ((j = 0; j < count; j++)); do
    k=$(((i + j) % count))
    eval "$prepare" >/dev/null 2>&1 || true
    start=$EPOCHREALTIME
    if ! eval "${commands[k]}" >/dev/null 2>/tmp/pgt-bench-timeit.err; then
      echo "timeit: command failed: ${commands[k]}" >&2
      cat /tmp/pgt-bench-timeit.err >&2
      exit 1
    fi
    end=$EPOCHREALTIME
    # EPOCHREALTIME is seconds.microseconds: subtract as integers of microseconds.
    echo "$i ${names[k]} $(((${end/./} - ${start/./})))" | awk '{printf "%s %s %.3f\n", $1, $2, $3 / 1000}'
  done
done
