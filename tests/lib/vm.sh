# shellcheck shell=bash
# "VMs" for tests of the release's jobs, sourced after require.sh. A VM is a network namespace
# attached to a bridge of the run, plus one long-lived mount namespace in which /etc and /var
# are overlays whose writes stay in the VM's own directory (useradd, the jobs' files) and
# /var/vcap is the VM's own tree: the jobs' templates rendered by tests/lib/render_job.rb, the
# packages, store/, data/, sys/. Nothing on the host changes. Every name carries the caller's
# per-run prefix, and vm_cleanup removes exactly what this run created.
#
#   vm_init PREFIX WORK_DIR        the run's bridge namespace (PREFIX-sw)
#   vm_create NAME ADDRESS/LEN     a VM; its tree is $(vm_dir NAME)/vcap
#   vm_run NAME CMD...             CMD on the VM (its network and mount namespaces), as root
#   vm_cleanup                     kills every process of the run's VMs, removes namespaces
#                                  and directories

VM_PREFIX=""
VM_WORK=""
VM_NAMES=()
declare -A VM_HOLDER=()

vm_init() {
  VM_PREFIX="$1"
  VM_WORK="$2"
  mkdir -p "$VM_WORK/vms"
  ip netns add "$VM_PREFIX-sw"
  ip -n "$VM_PREFIX-sw" link add br0 type bridge
  ip -n "$VM_PREFIX-sw" link set br0 up
}

vm_ns() { echo "$VM_PREFIX-$1"; }
vm_dir() { echo "$VM_WORK/vms/$1"; }

vm_create() {
  local name="$1" address="$2" ns dir index
  ns="$(vm_ns "$name")"
  dir="$(vm_dir "$name")"
  index="${#VM_NAMES[@]}"
  mkdir -p "$dir"/{vcap,etc-upper,etc-work,var-upper,var-work}
  mkdir -p "$dir"/vcap/{jobs,packages,store,data,sys/log,sys/run}
  ip netns add "$ns"
  VM_NAMES+=("$name")
  ip -n "$ns" link set lo up
  ip -n "$ns" link add eth0 type veth peer name "v$index" netns "$VM_PREFIX-sw"
  ip -n "$VM_PREFIX-sw" link set "v$index" master br0 up
  ip -n "$ns" addr add "$address" dev eth0
  ip -n "$ns" link set eth0 up
  # The holder keeps the VM's mount and IPC namespaces alive (local/lib/vm-holder.sh); the
  # IPC namespace takes a killed pgpool's leftover shared memory with it.
  ip netns exec "$ns" unshare --mount --ipc --propagation private -- \
    bash "$PGGUARD_SOURCE_DIR/local/lib/vm-holder.sh" "$dir" &
  VM_HOLDER[$name]=$!
  disown "${VM_HOLDER[$name]}"
  local i
  for i in $(seq 100); do
    [ -e "$dir/ready" ] && return 0
    kill -0 "${VM_HOLDER[$name]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL: VM $name: its mount namespace did not come up" >&2
  exit 1
}

vm_run() {
  local name="$1"
  shift
  nsenter --target "${VM_HOLDER[$name]}" --mount --net --ipc -- "$@"
}

vm_cleanup() {
  local name ns pid
  for name in "${VM_NAMES[@]}"; do
    ns="$(vm_ns "$name")"
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
  done
  # Namespaces go once their processes are gone.
  for name in "${VM_NAMES[@]}"; do
    ns="$(vm_ns "$name")"
    for pid in $(seq 50); do
      [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
      sleep 0.1
    done
    ip netns del "$ns" 2>/dev/null || true
  done
  [ -n "$VM_PREFIX" ] && ip netns del "$VM_PREFIX-sw" 2>/dev/null || true
  [ -n "$VM_WORK" ] && rm -rf "$VM_WORK"
}

# vm_install_pgguard NAME BUILD_PROGRAMS_DIR: the pgguard package as its packaging installs it
# (bin/, libexec/pgguard/ping, share/pgguard/profiles), from this build.
vm_install_pgguard() {
  local name="$1" programs="$2" package
  package="$(vm_dir "$name")/vcap/packages/pgguard"
  mkdir -p "$package/bin" "$package/share/pgguard"
  local program
  for program in isolate launch postgres pgpool failover fence setup garp ping vip smoke; do
    cp "$programs/$program/pgguard-$program" "$package/bin/"
  done
  # pgpool's ping_path: pgguard-ping under the name pgpool runs (as the package installs it).
  mkdir -p "$package/libexec/pgguard"
  cp "$programs/ping/pgguard-ping" "$package/libexec/pgguard/ping"
  mkdir -p "$package/share/pgguard/profiles"
  cp "$PGGUARD_SOURCE_DIR"/src/profiles/*.conf.in "$package/share/pgguard/profiles/"
}

# vm_render_job NAME JOB INPUT_JSON: the job's templates rendered into the VM's /var/vcap/jobs.
vm_render_job() {
  local name="$1" job="$2" input="$3" target
  target="$(vm_dir "$name")/vcap/jobs/$job"
  rm -rf "$target"
  ruby "$PGGUARD_SOURCE_DIR/tests/lib/render_job.rb" "$job" "$target" "$input"
}
