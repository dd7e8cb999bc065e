# Sourced by the isolation tests after topology.sh: renders each VM's pgguard-isolate config
# (docs/isolation.md), runs the program in the VMs, builds the expected port plan and runs the
# probe matrix.

PGT_TABLE=secure_postgres

pgt_find_isolate() {
  local candidate
  for candidate in "${PGT_ISOLATE:-}" "${PGGUARD_BIN_DIR:-/nonexistent}/isolate/pgguard-isolate"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      PGT_ISOLATE="$candidate"
      return 0
    fi
  done
  # Not a missing prerequisite: the program under test is part of this build.
  pgt_fail "pgguard-isolate not found (PGGUARD_BIN_DIR=${PGGUARD_BIN_DIR:-unset}, PGT_ISOLATE=${PGT_ISOLATE:-unset})"
}

# pgt_role_kind <role>: the role name the config uses (pgpool0..2 are all "pgpool").
pgt_role_kind() { echo "${1%%[0-9]*}"; }

# pgt_render_config <instance> <role> [member-roles...]: the config of one VM on stdout.
# Members default to all five VMs of the instance; pass role names to render another list.
pgt_render_config() {
  local instance="$1" role="$2"
  shift 2
  local members=("$@")
  [ "${#members[@]}" -gt 0 ] || members=("${PGT_ROLES[@]}")
  local member
  echo "# rendered by the isolation tests for $(pgt_vm "$instance" "$role")"
  echo "table = $PGT_TABLE"
  echo "self = $(pgt_addr4 "$instance" "$role")"
  echo "self = $(pgt_addr6 "$instance" "$role")"
  for member in "${members[@]}"; do
    echo "member = $(pgt_role_kind "$member") $(pgt_addr4 "$instance" "$member")"
  done
  for member in "${members[@]}"; do
    echo "member = $(pgt_role_kind "$member") $(pgt_addr6 "$instance" "$member")"
  done
  echo "vip = $(pgt_vip4 "$instance")"
  echo "vip = $(pgt_vip6 "$instance")"
  echo "[clients]"
  echo "cidr = $PGT_CLIENTS_NET4"
  echo "cidr = $PGT_CLIENTS_NET6"
  echo "[control]"
  echo "cidr = $PGT_CONTROL_NET4"
  echo "cidr = $PGT_CONTROL_NET6"
  echo "tcp_port = 22"
  echo "[service_network]"
  echo "cidr = $PGT_SERVICE_NET4"
  echo "cidr = $PGT_SERVICE_NET6"
  echo "[icmp]"
  echo "echo_rate = 10/second"
  echo "echo_burst = 20"
}

pgt_config_path() { echo "$PGT_WORK/$(pgt_vm "$1" "$2").conf"; }

# pgt_isolate <ns> <subcommand> <config>: runs the program inside the namespace.
pgt_isolate() {
  local ns="$1" subcommand="$2" config="$3"
  ip netns exec "$ns" "$PGT_ISOLATE" "$subcommand" --config "$config"
}

# pgt_apply_all: renders and applies the config of every VM; every apply must succeed.
pgt_apply_all() {
  local instance role config output
  for instance in "${PGT_INSTANCES[@]}"; do
    for role in "${PGT_ROLES[@]}"; do
      config="$(pgt_config_path "$instance" "$role")"
      pgt_render_config "$instance" "$role" >"$config"
      output="$(pgt_isolate "$(pgt_vm "$instance" "$role")" apply "$config" 2>&1)" ||
        pgt_fail "apply in $(pgt_vm "$instance" "$role") failed: $output"
    done
  done
}

pgt_apply_instance() {
  local instance="$1" role output
  for role in "${PGT_ROLES[@]}"; do
    output="$(pgt_isolate "$(pgt_vm "$instance" "$role")" apply \
      "$(pgt_config_path "$instance" "$role")" 2>&1)" ||
      pgt_fail "apply in $(pgt_vm "$instance" "$role") failed: $output"
  done
}

pgt_remove_instance() {
  local instance="$1" role output
  for role in "${PGT_ROLES[@]}"; do
    output="$(ip netns exec "$(pgt_vm "$instance" "$role")" "$PGT_ISOLATE" remove \
      --table "$PGT_TABLE" 2>&1)" || pgt_fail "remove in $(pgt_vm "$instance" "$role") failed: $output"
  done
}

# ---------------------------------------------------------------------------------------------
# The expected verdict, straight from the role port plan of docs/isolation.md.
#
# pgt_expect <src-host> <dst-instance> <dst-role> <proto> <port>: sets PGT_VERDICT to "open" or
# "closed" (a variable, not stdout: the matrix asks ~1,600 times and a subshell each is slow).
# src-host is "app", "ctl", or "<instance>:<role>"; dst-role "vip" is the VIP (on pgpool0).
pgt_expect() {
  local src="$1" dst_instance="$2" dst_role="$3" proto="$4" port="$5"
  local kind src_member=0 src_pgpool=0
  [ "$dst_role" = vip ] && kind=pgpool || kind="${dst_role%%[0-9]*}"
  if [[ "$src" == "$dst_instance":* ]]; then
    src_member=1
    [[ "${src#*:}" == pgpool* ]] && src_pgpool=1
  fi
  local verdict=closed
  PGT_VERDICT=closed
  case "$proto/$port" in
    icmp/)
      # Echo from peers: members, clients, control plane (rate-limited, but a single probe passes).
      if [ $src_member = 1 ] || [ "$src" = app ] || [ "$src" = ctl ]; then verdict=open; fi
      ;;
    tcp/5432) [ "$kind" != pgpool ] && [ $src_member = 1 ] && verdict=open ;;
    tcp/9999)
      if [ "$kind" = pgpool ] && { [ $src_member = 1 ] || [ "$src" = app ]; }; then verdict=open; fi
      ;;
    tcp/9898)
      if [ "$kind" = pgpool ] && { [ $src_pgpool = 1 ] || [ "$src" = ctl ]; }; then verdict=open; fi
      ;;
    tcp/9000 | udp/9694) [ "$kind" = pgpool ] && [ $src_pgpool = 1 ] && verdict=open ;;
    tcp/22) [ "$src" = ctl ] && verdict=open ;;
  esac
  PGT_VERDICT="$verdict"
}

# Sources of the matrix: every VM, the app host and the control host.
pgt_sources() {
  local instance role
  for instance in "${PGT_INSTANCES[@]}"; do
    for role in "${PGT_ROLES[@]}"; do echo "$instance:$role"; done
  done
  echo app
  echo ctl
}

pgt_source_ns() {
  case "$1" in
    app) echo "$PGT_APP_NS" ;;
    ctl) echo "$PGT_CTL_NS" ;;
    *) pgt_vm "${1%%:*}" "${1#*:}" ;;
  esac
}

# pgt_targets <src> <kinds>: the probe lines for one source ("<dst-instance> <dst-role> <target>"),
# kinds "ports" (TCP and UDP) or "icmp4" / "icmp6". A VM does not probe itself (loopback).
pgt_targets() {
  local src="$1" kinds="$2" instance role addr port
  for instance in "${PGT_INSTANCES[@]}"; do
    for role in "${PGT_ROLES[@]}" vip; do
      [ "$src" = "$instance:$role" ] && continue
      [ "$src" = "$instance:pgpool0" ] && [ "$role" = vip ] && continue
      case "$kinds" in
        ports)
          for addr in "$(_pgt_dst_addr4 "$instance" "$role")" "$(_pgt_dst_addr6 "$instance" "$role")"; do
            for port in "${PGT_TCP_PORTS[@]}"; do echo "$instance $role tcp $addr $port"; done
            for port in "${PGT_UDP_PORTS[@]}"; do echo "$instance $role udp $addr $port"; done
          done
          ;;
        icmp4) echo "$instance $role icmp $(_pgt_dst_addr4 "$instance" "$role")" ;;
        icmp6) echo "$instance $role icmp $(_pgt_dst_addr6 "$instance" "$role")" ;;
      esac
    done
  done
}

_pgt_dst_addr4() { if [ "$2" = vip ]; then pgt_vip4 "$1"; else pgt_addr4 "$1" "$2"; fi; }
_pgt_dst_addr6() { if [ "$2" = vip ]; then pgt_vip6 "$1"; else pgt_addr6 "$1" "$2"; fi; }

# pgt_run_matrix <label> <kinds> [expectation-override-function]
# Probes from every source in parallel, compares each result with pgt_expect (or with the
# override, called like pgt_expect), prints the counts and every mismatch. Returns 1 on mismatch.
pgt_run_matrix() {
  local label="$1" kinds="$2" expect="${3:-pgt_expect}"
  local dir="$PGT_WORK/matrix-$label"
  mkdir -p "$dir"
  local src ns pids=()
  while read -r src; do
    ns="$(pgt_source_ns "$src")"
    pgt_targets "$src" "$kinds" >"$dir/$ns.targets"
    cut -d' ' -f3- "$dir/$ns.targets" |
      ip netns exec "$ns" "$PGT_PYTHON" "$PGT_NETPROBE" probe --timeout 2 >"$dir/$ns.results" &
    pids+=($!)
  done < <(pgt_sources)
  local pid
  for pid in "${pids[@]}"; do wait "$pid" || pgt_fail "prober $pid failed in matrix $label"; done

  local attempts=0 allowed=0 denied=0 mismatches=0 dst_instance dst_role proto addr port result
  local want line
  while read -r src; do
    ns="$(pgt_source_ns "$src")"
    # Results come back in target order.
    while IFS=' ' read -r dst_instance dst_role proto addr port <&3 && read -r line <&4; do
      [ "$proto" = icmp ] && port=""
      result="${line##* }"
      $expect "$src" "$dst_instance" "$dst_role" "$proto" "$port"
      want="$PGT_VERDICT"
      attempts=$((attempts + 1))
      if [ "$result" = open ]; then allowed=$((allowed + 1)); else denied=$((denied + 1)); fi
      if [ "$result" != "$want" ]; then
        mismatches=$((mismatches + 1))
        echo "  MISMATCH $label: $src -> $dst_instance:$dst_role $proto $addr $port: got $result, want $want"
      fi
    done 3<"$dir/$ns.targets" 4<"$dir/$ns.results"
  done < <(pgt_sources)
  pgt_log "matrix $label: attempts $attempts, allowed $allowed, denied $denied, mismatches $mismatches"
  [ "$mismatches" -eq 0 ]
}

# ---------------------------------------------------------------------------------------------
# An observer table of the test's own (not the program's): base chains hooked AFTER the
# program's chains count what survived them. A drop in the program's chain ends the packet's
# path, so a counter here that stays 0 proves the program dropped it.
pgt_observe_setup() {
  local ns="$1"
  ip netns exec "$ns" nft -f - <<'EOF'
table inet pgt_observe {
  counter pre_hits {}
  counter in_hits {}
  chain pre { type filter hook prerouting priority -250; policy accept; }
  chain in { type filter hook input priority 10; policy accept; }
}
EOF
}

# pgt_observe_rule <ns> <pre|in> <match...>: counts packets matching <match> in that chain.
pgt_observe_rule() {
  local ns="$1" chain="$2"
  shift 2
  ip netns exec "$ns" nft add rule inet pgt_observe "$chain" "$@" counter name "${chain}_hits"
}

pgt_observe_reset() {
  local ns="$1"
  ip netns exec "$ns" nft flush chain inet pgt_observe pre
  ip netns exec "$ns" nft flush chain inet pgt_observe in
  ip netns exec "$ns" nft reset counters table inet pgt_observe >/dev/null
}

# pgt_observed <ns> <pre|in>: packets counted so far.
pgt_observed() {
  ip netns exec "$1" nft list counter inet pgt_observe "$2_hits" |
    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
