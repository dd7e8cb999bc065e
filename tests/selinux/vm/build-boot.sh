#!/usr/bin/env bash
# Fetches Debian's kernel (linux-image-amd64 from apt, extracted, never installed on the host)
# and builds a tiny initramfs (static busybox + the modules needed to mount a virtio ext4 root,
# plus any MODULE named, loaded before the root is mounted: the guest has no modprobe), cached
# per kernel version and module list. Usage: build-boot.sh CACHE_DIR [MODULE...]
# -> prints "VMLINUZ INITRD".
set -euo pipefail

cache_dir="$1"
shift
extra_modules=("$@")
mkdir -p "$cache_dir"
exec 8>"$cache_dir/boot.lock"
flock 8

# linux-image-amd64 is a metapackage; the kernel is its versioned dependency.
kernel_package="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
if [ -z "$kernel_package" ]; then
  echo "build-boot: cannot resolve linux-image-amd64 (apt-get update?)" >&2
  exit 1
fi
kernel_version="${kernel_package#linux-image-}"
boot_dir="$cache_dir/boot-$kernel_version"
if [ "${#extra_modules[@]}" -gt 0 ]; then
  boot_dir+="-$(printf '%s\n' "${extra_modules[@]}" | sha256sum | cut -c1-8)"
fi
if [ -s "$boot_dir/initrd.cpio.gz" ] && [ -s "$boot_dir/vmlinuz" ]; then
  echo "$boot_dir/vmlinuz $boot_dir/initrd.cpio.gz"
  exit 0
fi

work="$(mktemp -d "$cache_dir/boot.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "$kernel_package" >/dev/null 2>"$work/download.log") || {
  cat "$work/download.log" >&2
  echo "build-boot: apt-get download $kernel_package failed" >&2
  exit 1
}
dpkg-deb -x "$work"/"$kernel_package"_*.deb "$work/kernel"
modules="$work/kernel/lib/modules/$kernel_version"

# Module name -> file; dependencies read from each module's own modinfo "depends=" string.
declare -A module_file
while IFS= read -r file; do
  name="$(basename "$file" .ko)"
  module_file["${name//-/_}"]="$file"
done < <(find "$modules" -name '*.ko')

ordered=()
declare -A seen
add_module() {
  local name="${1//-/_}" dependency depends
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  local file="${module_file[$name]:-}"
  if [ -z "$file" ]; then
    # Built into the kernel (modules.builtin): nothing to load.
    grep -q "/${1}.ko\$\|/${name}.ko\$" "$modules/modules.builtin" && return 0
    echo "build-boot: module $name not found in $kernel_package" >&2
    exit 1
  fi
  depends="$(tr '\0' '\n' <"$file" | sed -n 's/^depends=//p' | head -n 1)"
  for dependency in ${depends//,/ }; do
    add_module "$dependency"
  done
  ordered+=("$name")
}
for wanted in virtio_pci virtio_blk crc32c_generic ext4 "${extra_modules[@]}"; do
  add_module "$wanted"
done

initrd="$work/initrd"
mkdir -p "$initrd"/{bin,dev,proc,sys,newroot,modules}
cp /bin/busybox "$initrd/bin/busybox"
for name in "${ordered[@]}"; do
  cp "${module_file[$name]}" "$initrd/modules/$name.ko"
done
printf '%s\n' "${ordered[@]}" >"$initrd/modules/order"
cat >"$initrd/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r module; do
  insmod "/modules/$module.ko" || echo "initrd: insmod $module failed"
done </modules/order
for _ in $(seq 1 100); do
  [ -b /dev/vda ] && break
  sleep 0.1
done
mount -t ext4 -o rw /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /usr/sbin/init
INIT
chmod +x "$initrd/init"
mkdir -p "$work/out"
(cd "$initrd" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$work/out/initrd.cpio.gz"
cp "$work/kernel/boot/vmlinuz-$kernel_version" "$work/out/vmlinuz"
rm -rf "$boot_dir"
mv "$work/out" "$boot_dir"
echo "$boot_dir/vmlinuz $boot_dir/initrd.cpio.gz"
