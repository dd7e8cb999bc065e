#!/usr/bin/env bash
# Runs on an application VM: writes FIRST, FIRST+1, ... through the VIP, each in its own connection
# (TLS verify-full + scram), and appends every number whose INSERT was acknowledged (psql
# exited 0 after COMMIT) to ACKED. Stops when STOP exists. A failed write is retried with the
# next number; what matters is that every acknowledged number survives.
#   writer.sh CONNINFO ACKED STOP FIRST   (PGPASSWORD in the environment)
set -u
conninfo="$1" acked="$2" stop="$3" n=$(($4 - 1))
while [ ! -e "$stop" ]; do
  n=$((n + 1))
  if timeout 10 /usr/lib/postgresql/15/bin/psql -X -q "$conninfo" -v ON_ERROR_STOP=1 \
    -c "INSERT INTO acked VALUES ($n)" >/dev/null 2>&1; then
    echo "$n $(date +%s.%N)" >>"$acked"
  else
    echo "$n failed $(date +%s.%N)" >>"$acked.failed"
    sleep 0.2
  fi
done
