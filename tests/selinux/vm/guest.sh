# Sourced by the qemu guest tests (selinux/vm/enforcing-vm.sh, integration/net/
# isolation_guest_kernel.sh): a work directory removed on exit, a qemu process always killed,
# and one boot of $work/disk.img whose serial console ends up in $work/console.txt.

# guest_work_dir PREFIX: sets $work (under /var/tmp) and $vm_timeout, arms the cleanup.
guest_work_dir() {
  work="$(mktemp -d "/var/tmp/$1.XXXXXX")"
  vm_timeout="${SECURE_POSTGRES_VM_TIMEOUT:-900}"
  qemu_pid=""
  trap guest_cleanup EXIT
}

guest_cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    sleep 1
    kill -9 "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$work"
}

# guest_boot VMLINUZ INITRD MEMORY_MB "EXTRA KERNEL ARGUMENTS": boots the disk image (TCG, no
# KVM needed, no network), waits for power-off, prints the guest's PGGUARD- and initrd lines.
# Exits 1 unless the guest reported PGGUARD-DONE.
guest_boot() {
  local console="$work/console.log" status=0
  timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
    -machine pc -accel tcg -cpu max -smp 2 -m "$3" \
    -display none -monitor none -serial "file:$console" -no-reboot -nic none \
    -kernel "$1" -initrd "$2" \
    -append "console=ttyS0 root=/dev/vda rw $4 panic=-1 loglevel=4" \
    -drive "file=$work/disk.img,format=raw,if=virtio" &
  qemu_pid=$!
  wait "$qemu_pid" || status=$?
  qemu_pid=""
  echo "guest ran $((SECONDS - started)) s in total (qemu exit $status)"
  tr -d '\r' <"$console" >"$work/console.txt"
  grep -E '^PGGUARD-|^initrd:' "$work/console.txt" || true
  if ! grep -q '^PGGUARD-DONE' "$work/console.txt"; then
    echo "FAIL: the guest did not finish (qemu exit $status); last console lines:" >&2
    tail -n 60 "$work/console.txt" >&2
    exit 1
  fi
}

# guest_check_reported NAME: true when the guest printed "PGGUARD-CHECK NAME ok"; otherwise
# prints what the guest said about NAME (its CHECK and "INFO NAME:" lines, or "not reported").
guest_check_reported() {
  grep -q "^PGGUARD-CHECK $1 ok" "$work/console.txt" && return 0
  grep -E "^PGGUARD-(CHECK $1 |INFO $1:)" "$work/console.txt" || echo "not reported"
  return 1
}
