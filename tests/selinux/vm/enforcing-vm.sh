#!/usr/bin/env bash
# (c) Enforcing for real: boots Debian's kernel with selinux=1 security=selinux enforcing=1
# under qemu (TCG: no KVM needed) in a Debian 12 root filesystem built by debootstrap from the
# mirror this machine's apt uses, labelled before boot (setfiles, then mke2fs -d). Inside, the
# loader installs the module and relabels the release's /var/vcap paths, postgres runs confined
# in secpg_postgres_t as vcap, allowed operations work and the forbidden ones are denied with
# the matching AVC lines. The guest prints results on the serial console; this script asserts.
#
# Cache: $SECURE_POSTGRES_CACHE (default /var/cache/secure-postgres)/selinux-vm keeps the
# debootstrap tarball and the kernel+initramfs; everything else lives in a temp dir removed on
# exit, and the qemu process is always killed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
. "$here/../lib.sh"
# shellcheck source=guest.sh
. "$here/guest.sh"
require_root
require_command qemu-system-x86_64 debootstrap mke2fs setfiles busybox apt-get dpkg-deb flock timeout
[ -n "${SECURE_POSTGRES_PP:-}" ] && [ -s "$SECURE_POSTGRES_PP" ] || missing_prerequisite "the built module"
[ -n "${PGGUARD_SELINUX:-}" ] && [ -x "$PGGUARD_SELINUX" ] || missing_prerequisite "pgguard-selinux"
launcher="${PGGUARD_BUILD_DIR:-}/src/programs/launch/pgguard-launch"

cache_dir="${SECURE_POSTGRES_CACHE:-/var/cache/secure-postgres}/selinux-vm"
guest_work_dir pgguard-selinux-vm

started=$SECONDS
tarball="$(bash "$here/build-rootfs.sh" "$cache_dir")"
read -r vmlinuz initrd < <(bash "$here/build-boot.sh" "$cache_dir")
echo "rootfs: $tarball"
echo "kernel: $vmlinuz"

# --- the guest's root filesystem -----------------------------------------------------------
root="$work/root"
mkdir -p "$root"
tar -C "$root" --numeric-owner -xpf "$tarball"

install -m 0755 "$here/guest/init" "$root/usr/sbin/init"
install -m 0755 "$here/guest/selinux-test" "$root/etc/init.d/pgguard-selinux-test"
printf 'SELINUX=enforcing\nSELINUXTYPE=default\n' >"$root/etc/selinux/config"
mkdir -p "$root/opt/pgguard/bin"
install -m 0755 "$PGGUARD_SELINUX" "$root/opt/pgguard/bin/pgguard-selinux"
if [ -x "$launcher" ]; then
  install -m 0755 "$launcher" "$root/opt/pgguard/bin/pgguard-launch"
  install -m 0644 "$here/guest/postgres.profile" "$root/opt/pgguard/postgres.profile"
fi
echo 'vcap:x:1000:1000:BOSH vcap:/var/vcap:/bin/bash' >>"$root/etc/passwd"
echo 'vcap:x:1000:' >>"$root/etc/group"
echo 'vcap:!:19000:0:99999:7:::' >>"$root/etc/shadow"

# The release's layout, as BOSH lays it out: packages and sys are symlinks into /var/vcap/data.
vcap="$root/var/vcap"
package_real="$vcap/data/packages/postgres-15/0f1e2d3c"
mkdir -p "$package_real/lib/postgresql" "$package_real/share/postgresql" "$vcap/packages"
cp -a "$root/usr/lib/postgresql/15" "$package_real/lib/postgresql/15"
cp -a "$root/usr/share/postgresql/15" "$package_real/share/postgresql/15"
ln -s /var/vcap/data/packages/postgres-15/0f1e2d3c "$vcap/packages/postgres-15"
# DAC would let anyone write the package here: only SELinux stands in the way.
chmod 0777 "$package_real"
mkdir -p "$vcap/packages/secure-postgres-selinux"
install -m 0644 "$SECURE_POSTGRES_PP" "$vcap/packages/secure-postgres-selinux/secure_postgres.pp"
mkdir -p "$vcap/data/jobs/pg-master/4a5b6c/config" "$vcap/jobs"
echo "# rendered by BOSH" >"$vcap/data/jobs/pg-master/4a5b6c/config/postgresql.conf"
ln -s /var/vcap/data/jobs/pg-master/4a5b6c "$vcap/jobs/pg-master"
mkdir -p "$vcap/data/sys/log/pg-master" "$vcap/data/sys/run/pg-master"
ln -s /var/vcap/data/sys "$vcap/sys"
mkdir -p "$vcap/store/pg-master" "$vcap/store/pg-standby" "$vcap/store/pgpool"
# Another job's data, readable by DAC (0644 under 0755): only SELinux stands in the way.
echo "pgpool's private state" >"$vcap/store/pgpool/secret"
chmod 0755 "$vcap/store/pgpool"
chmod 0644 "$vcap/store/pgpool/secret"
chown -R 1000:1000 "$vcap/store/pg-master" "$vcap/store/pg-standby" "$vcap/data/sys/log/pg-master" \
  "$vcap/data/sys/run/pg-master"
chmod 0700 "$vcap/store/pg-master" "$vcap/store/pg-standby"

# Labels from the guest's own policy (the module is not in it yet: the loader relabels /var/vcap).
setfiles -m -F -r "$root" -c "$root/etc/selinux/default/policy/policy.33" \
  "$root/etc/selinux/default/contexts/files/file_contexts" "$root" >"$work/setfiles.log" 2>&1 || {
  tail -n 20 "$work/setfiles.log" >&2
  echo "FAIL: setfiles could not label the guest's root filesystem" >&2
  exit 1
}
label="$(/usr/bin/python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "security.selinux").rstrip(b"\0").decode())' "$root/usr/sbin/init" 2>/dev/null || true)"
case "$label" in
  *:init_exec_t:*) echo "labelled: /usr/sbin/init is $label" ;;
  *)
    echo "FAIL: /usr/sbin/init is labelled '$label', expected init_exec_t" >&2
    exit 1
    ;;
esac
mke2fs -q -t ext4 -L root -d "$root" "$work/disk.img" 3G
rm -rf --one-file-system "$root"
echo "image ready after $((SECONDS - started)) s"

# --- boot ------------------------------------------------------------------------------------
guest_boot "$vmlinuz" "$initrd" 2048 "selinux=1 security=selinux enforcing=1"

# --- assertions --------------------------------------------------------------------------------
for name in enforcing loader_installs loader_idempotent loader_refuses_corrupt \
  loader_refuses_missing_path initdb_confined server_domain server_user connect_and_write \
  unix_socket log_written read_other_job_denied write_package_denied \
  connect_foreign_port_denied bind_foreign_port_denied server_stops; do
  if said="$(guest_check_reported "$name")"; then
    pass "guest: $name"
  else
    fail "guest: $name: $said"
  fi
done
if [ -x "$launcher" ]; then
  if said="$(guest_check_reported launcher_works)"; then
    pass "guest: pgguard-launch started initdb"
  else
    fail "guest: pgguard-launch: $said"
  fi
  if grep -q '^PGGUARD-INFO postmaster NoNewPrivs: 1 (launcher pgguard-launch)' "$work/console.txt"; then
    pass "guest: postgres started by pgguard-launch (no_new_privs set, nnp_transition taken)"
  else
    fail "guest: postgres was not started by pgguard-launch with no_new_privs"
  fi
fi
if grep -q '^PGGUARD-CHECK label:.* FAIL' "$work/console.txt" ||
  [ "$(grep -c '^PGGUARD-CHECK label:.* ok' "$work/console.txt")" -ne 6 ]; then
  fail "guest: the loader left paths with the wrong type"
else
  pass "guest: the loader relabelled every path to its type"
fi

postgres_context='scontext=system_u:system_r:secpg_postgres_t:s0'
expect_avc() {  # DESCRIPTION REGEX
  if grep -Eq "avc:  denied  $2" "$work/console.txt"; then
    pass "AVC: $1"
  else
    fail "AVC: no denial line for $1 (/$2/)"
  fi
}
expect_avc "reading another job's data" \
  "\\{ (search|read|open|getattr) \\} for .*$postgres_context tcontext=system_u:object_r:secpg_pgpool_data_t:s0 tclass=(dir|file)"
expect_avc "writing the package directory" \
  "\\{ (write|add_name) \\} for .*$postgres_context tcontext=system_u:object_r:secpg_postgres_pkg_t:s0 tclass=dir"
expect_avc "binding port 5433" \
  "\\{ name_bind \\} for .*src=5433 $postgres_context tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket"
expect_avc "connecting to port 22" \
  "\\{ name_connect \\} for .*dest=22 $postgres_context tcontext=system_u:object_r:ssh_port_t:s0 tclass=tcp_socket"
# The server's own files must never be denied to it (a missing allow would show up here).
own="$(grep -E "avc:  denied .*$postgres_context tcontext=system_u:object_r:secpg_postgres_(data|log|run|tmpfs)_t" "$work/console.txt" || true)"
if [ -z "$own" ]; then
  pass "no denial of the server's own data, log, run or shm files"
else
  fail "postgres was denied its own files: $own"
fi
finish
