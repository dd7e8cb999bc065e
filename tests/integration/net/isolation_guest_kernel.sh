#!/usr/bin/env bash
# pgguard-isolate on another kernel than the host's: boots Debian 12's own kernel (6.1, between
# the jammy and noble stemcells' 5.15 and 6.8) under qemu (TCG, no KVM needed) in the Debian 12
# guest the SELinux test builds (tests/selinux/vm), with nf_tables and the expression modules
# the ruleset uses loaded from the initramfs (the guest has no modprobe). Inside: apply creates
# the table, verify reads it back in sync, a second apply changes nothing, a changed member list
# is refilled in place and verifies, and after remove verify reports drift. The guest prints
# results on the serial console; this script asserts.
#
# Cache: $SECURE_POSTGRES_CACHE (default /var/cache/secure-postgres)/selinux-vm, shared with
# the SELinux test; everything else lives in a temp dir removed on exit, and qemu is always killed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/lib/topology.sh"
source "$here/lib/isolation.sh"
vm="$here/../../selinux/vm"

require_root
require_command qemu-system-x86_64 debootstrap mke2fs busybox apt-get dpkg-deb flock timeout
pgt_find_isolate

cache_dir="${SECURE_POSTGRES_CACHE:-/var/cache/secure-postgres}/selinux-vm"
vm_timeout="${SECURE_POSTGRES_VM_TIMEOUT:-900}"
# What the ruleset needs beyond nf_tables' core (sets, counter, payload, meta, lookup, immediate
# are built into nf_tables): conntrack state, the reverse-path fib lookup, limit, log and the
# logger behind it.
modules=(nfnetlink nf_tables nft_ct nft_fib_inet nft_limit nft_log nf_log_syslog)

work="$(mktemp -d /var/tmp/pgguard-isolation-vm.XXXXXX)"
qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    sleep 1
    kill -9 "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

started=$SECONDS
tarball="$(bash "$vm/build-rootfs.sh" "$cache_dir")"
read -r vmlinuz initrd < <(bash "$vm/build-boot.sh" "$cache_dir" "${modules[@]}")
echo "rootfs: $tarball"
echo "kernel: $vmlinuz"

root="$work/root"
mkdir -p "$root"
tar -C "$root" --numeric-owner -xpf "$tarball"
mkdir -p "$root/opt/pgguard"
install -m 0755 "$PGT_ISOLATE" "$root/opt/pgguard/pgguard-isolate"
install -m 0644 "$PGGUARD_SOURCE_DIR/docs/examples/isolation.conf" "$root/opt/pgguard/isolation.conf"
# One standby more: the same set sizes, so the change is refilled in place.
{
  cat "$PGGUARD_SOURCE_DIR/docs/examples/isolation.conf"
  echo "member = standby 198.18.1.16"
} >"$root/opt/pgguard/changed.conf"
# The section headers come after the member lines in the example: move the new member up.
/usr/bin/python3 - "$root/opt/pgguard/changed.conf" <<'EOF'
import sys
path = sys.argv[1]
lines = open(path).read().splitlines()
extra = lines.pop()
first_section = next(i for i, line in enumerate(lines) if line.startswith("["))
lines.insert(first_section, extra)
open(path, "w").write("\n".join(lines) + "\n")
EOF

cat >"$root/usr/sbin/init" <<'GUEST'
#!/bin/bash
# PID 1 of the guest: run pgguard-isolate against this kernel, report, power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
mkdir -p /run
mount -t tmpfs -o mode=0755 tmpfs /run
mount -o remount,rw /
ip link set lo up
isolate=/opt/pgguard/pgguard-isolate
conf=/opt/pgguard/isolation.conf
changed=/opt/pgguard/changed.conf
echo "PGGUARD-INFO kernel $(uname -r)"

check() { # check NAME EXPECTED_EXIT OUTPUT_PATTERN COMMAND...
  local name="$1" expected="$2" pattern="$3" output status
  shift 3
  output="$("$@" 2>&1)"
  status=$?
  echo "PGGUARD-INFO $name: exit $status: $(echo "$output" | head -n 3 | tr '\n' ' ')"
  if [ "$status" = "$expected" ] && echo "$output" | grep -q -- "$pattern"; then
    echo "PGGUARD-CHECK $name ok"
  else
    echo "PGGUARD-CHECK $name FAIL"
  fi
}

check apply_creates 0 "created" "$isolate" apply --config "$conf"
check verify_in_sync 0 "in sync" "$isolate" verify --config "$conf" --full
check reapply_changes_nothing 0 "in sync, nothing changed" "$isolate" apply --config "$conf" --full
check changed_members_refilled 0 "refilled" "$isolate" apply --config "$changed"
check changed_verifies 0 "in sync" "$isolate" verify --config "$changed" --full
check removed 0 "removed" "$isolate" remove
check drift_after_remove 1 "does not exist" "$isolate" verify --config "$changed" --full
echo "PGGUARD-DONE"
sync
echo o >/proc/sysrq-trigger
sleep 30
GUEST
chmod 0755 "$root/usr/sbin/init"

mke2fs -q -t ext4 -L root -d "$root" "$work/disk.img" 3G
rm -rf --one-file-system "$root"
echo "image ready after $((SECONDS - started)) s"

console="$work/console.log"
timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
  -machine pc -accel tcg -cpu max -smp 2 -m 1024 \
  -display none -monitor none -serial "file:$console" -no-reboot -nic none \
  -kernel "$vmlinuz" -initrd "$initrd" \
  -append "console=ttyS0 root=/dev/vda rw panic=-1 loglevel=4" \
  -drive "file=$work/disk.img,format=raw,if=virtio" &
qemu_pid=$!
qemu_status=0
wait "$qemu_pid" || qemu_status=$?
qemu_pid=""
echo "guest ran $((SECONDS - started)) s in total (qemu exit $qemu_status)"
tr -d '\r' <"$console" >"$work/console.txt"
grep -E '^PGGUARD-|initrd:' "$work/console.txt" || true

if ! grep -q '^PGGUARD-DONE' "$work/console.txt"; then
  echo "FAIL: the guest did not finish (qemu exit $qemu_status); last console lines:" >&2
  tail -n 40 "$work/console.txt" >&2
  exit 1
fi
failed=0
for name in apply_creates verify_in_sync reapply_changes_nothing changed_members_refilled \
  changed_verifies removed drift_after_remove; do
  if grep -q "^PGGUARD-CHECK $name ok" "$work/console.txt"; then
    echo "ok: guest kernel: $name"
  else
    echo "FAIL: guest kernel: $name: $(grep "^PGGUARD-INFO $name:" "$work/console.txt" || echo 'not reported')" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
echo "all checks passed"
