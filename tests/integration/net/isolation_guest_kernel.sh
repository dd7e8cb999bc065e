#!/usr/bin/env bash
# pgguard-isolate on another kernel than the host's: boots Debian 12's own kernel (6.1, between
# the jammy and noble stemcells' 5.15 and 6.8) under qemu (TCG, no KVM needed) in the Debian 12
# guest the SELinux test builds (tests/selinux/vm), with nf_tables and the expression modules
# the ruleset uses loaded from the initramfs (the guest has no modprobe). Inside: apply creates
# the table, verify reads it back in sync, a second apply changes nothing, a changed member list
# is refilled in place and verifies, and after remove verify reports drift. Then traffic: with
# the guest as the pgpool VM of docs/examples/isolation.conf and three peers in namespaces on
# veth pairs (a member, an application host, another instance's VM), TCP connects reach exactly
# the ports the role plan gives each peer, and a member's address forged from another interface
# is dropped. The guest prints results on the serial console; this script asserts.
#
# Cache: $SECURE_POSTGRES_CACHE (default /var/cache/secure-postgres)/selinux-vm, shared with
# the SELinux test; everything else lives in a temp dir removed on exit, and qemu is always killed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../lib/require.sh"
source "$here/lib/topology.sh"
source "$here/lib/isolation.sh"
vm="$here/../../selinux/vm"
source "$vm/guest.sh"

require_root
require_command qemu-system-x86_64 debootstrap mke2fs busybox apt-get dpkg-deb flock timeout
pgt_find_isolate

cache_dir="${SECURE_POSTGRES_CACHE:-/var/cache/secure-postgres}/selinux-vm"
# What the ruleset needs beyond nf_tables' core (sets, counter, payload, meta, lookup, immediate
# are built into nf_tables): conntrack state, the reverse-path fib lookup, limit, log and the
# logger behind it; veth for the traffic part.
modules=(nfnetlink nf_tables nft_ct nft_fib_inet nft_limit nft_log nf_log_syslog veth)

guest_work_dir pgguard-isolation-vm

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
# One standby more: the same set sizes, so the change is refilled in place. Members are top-level
# keys, so the new line goes before the example's first [section].
awk '!added && /^\[/ { print "member = standby 198.18.1.16"; added = 1 } { print }' \
  "$PGGUARD_SOURCE_DIR/docs/examples/isolation.conf" >"$root/opt/pgguard/changed.conf"
grep -q '^member = standby 198.18.1.16$' "$root/opt/pgguard/changed.conf"

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

report() { # report NAME: ok when the previous command succeeded
  if [ $? = 0 ]; then echo "PGGUARD-CHECK $1 ok"; else echo "PGGUARD-CHECK $1 FAIL"; fi
}

check() { # check NAME EXPECTED_EXIT OUTPUT_PATTERN COMMAND...
  local name="$1" expected="$2" pattern="$3" output status
  shift 3
  output="$("$@" 2>&1)"
  status=$?
  echo "PGGUARD-INFO $name: exit $status: $(echo "$output" | head -n 3 | tr '\n' ' ')"
  [ "$status" = "$expected" ] && echo "$output" | grep -q -- "$pattern"
  report "$name"
}

check apply_creates 0 "created" "$isolate" apply --config "$conf"
check verify_in_sync 0 "in sync" "$isolate" verify --config "$conf" --full
check reapply_changes_nothing 0 "in sync, nothing changed" "$isolate" apply --config "$conf" --full
check changed_members_refilled 0 "refilled" "$isolate" apply --config "$changed"
check changed_verifies 0 "in sync" "$isolate" verify --config "$changed" --full
check removed 0 "removed" "$isolate" remove
check drift_after_remove 1 "does not exist" "$isolate" verify --config "$changed" --full

# Traffic. This VM is pgpool 198.18.1.13 (on lo); each peer has its own veth pair and a host
# route, so the reverse path of each source is exactly one interface.
"$isolate" apply --config "$conf" >/dev/null
ip addr add 198.18.1.13/32 dev lo
peers="member:198.18.1.11 app:198.18.64.10 other:198.18.2.11"
for peer in $peers; do
  name="${peer%%:*}" address="${peer#*:}"
  ip netns add "$name"
  ip link add "v-$name" type veth peer name eth0 netns "$name"
  ip link set "v-$name" up
  ip route add "$address/32" dev "v-$name" src 198.18.1.13
  ip -n "$name" link set lo up
  ip -n "$name" addr add "$address/32" dev eth0
  ip -n "$name" link set eth0 up
  ip -n "$name" route add 198.18.1.13/32 dev eth0
done
# The other instance's VM also holds the member's address, to forge it as a source.
ip -n other addr add 198.18.1.11/32 dev eth0
perl -MIO::Socket::INET -e '
  for my $port (9999, 9898) {
    next if fork;
    my $listener = IO::Socket::INET->new(LocalPort => $port, Listen => 64, ReuseAddr => 1) or die;
    while (my $connection = $listener->accept) { close $connection }
  }' &
sleep 1
connect_from() { # connect_from NAMESPACE SOURCE PORT -> open|closed
  ip netns exec "$1" perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(PeerAddr => "198.18.1.13", PeerPort => $ARGV[1],
                                  LocalAddr => $ARGV[0], Timeout => 2);
    print $s ? "open" : "closed"' "$2" "$3"
}
expect() { # expect NAME WANT NAMESPACE SOURCE PORT
  local got
  got="$(connect_from "$3" "$4" "$5")"
  echo "PGGUARD-INFO $1: $3 from $4 to port $5: $got"
  [ "$got" = "$2" ]
  report "$1"
}
expect member_to_clients open member 198.18.1.11 9999
expect member_not_to_pcp closed member 198.18.1.11 9898
expect app_to_clients open app 198.18.64.10 9999
expect app_not_to_pcp closed app 198.18.64.10 9898
expect other_instance_cut closed other 198.18.2.11 9999
# A forged connect never completes whatever happens (the answer goes to the real member), so
# what counts is whether the SYNs reach TCP at all: the VM's TCP InSegs counter must not move.
# The kernel's strict rp_filter (set by apply) would stop them too: it is turned off, so that
# only the prerouting fib rule stands in the way.
tcp_in_segments() {
  awk '/^Tcp:/ { if (!header) { for (i = 1; i <= NF; i++) if ($i == "InSegs") column = i; header = 1 }
                 else print $column }' /proc/net/snmp
}
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.v-other.rp_filter=0
before="$(tcp_in_segments)"
connect_from other 198.18.1.11 9999 >/dev/null
reached=$(($(tcp_in_segments) - before))
echo "PGGUARD-INFO forged_member_dropped: SYNs from 198.18.1.11 on the other instance's link that reached TCP: $reached"
[ "$reached" = 0 ]
report forged_member_dropped
echo "PGGUARD-DONE"
sync
echo o >/proc/sysrq-trigger
sleep 30
GUEST
chmod 0755 "$root/usr/sbin/init"

mke2fs -q -t ext4 -L root -d "$root" "$work/disk.img" 3G
rm -rf --one-file-system "$root"
echo "image ready after $((SECONDS - started)) s"

guest_boot "$vmlinuz" "$initrd" 1024 ""
failed=0
for name in apply_creates verify_in_sync reapply_changes_nothing changed_members_refilled \
  changed_verifies removed drift_after_remove member_to_clients member_not_to_pcp \
  app_to_clients app_not_to_pcp other_instance_cut forged_member_dropped; do
  if said="$(guest_check_reported "$name")"; then
    echo "ok: guest kernel: $name"
  else
    echo "FAIL: guest kernel: $name: $said" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
echo "all checks passed"
