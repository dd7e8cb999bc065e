#!/usr/bin/env bash
# Runs on an application VM: every 0.1 s, opens a TCP connection to ADDRESS:PORT (giving it
# 0.25 s) and closes it again, and appends the time of every connection that was accepted to
# ANSWERS, until STOP exists. This is bench/ha's measure of "the VIP answers": a pgpool whose
# address is the VIP accepts; a lost holder, or none, does not. The writer's measure (the first
# acknowledged INSERT) adds its own retry pace on top (connect_timeout, SYN retransmissions).
#   vip_probe.sh ADDRESS PORT ANSWERS STOP
set -u
address="$1" port="$2" answers="$3" stop="$4"
while [ ! -e "$stop" ]; do
  if timeout 0.25 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$address" "$port" 2>/dev/null; then
    date +%s.%N >>"$answers"
  fi
  sleep 0.1
done
