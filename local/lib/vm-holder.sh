#!/usr/bin/env bash
# vm-holder.sh VM_DIR: the process that holds a VM's mount namespace (local/lib/local_vms.rb,
# tests/lib/vm.sh), run in the VM's fresh network, mount and IPC namespaces. /etc and /var become
# overlays whose writes stay in VM_DIR (useradd, the jobs' files), /var/vcap is VM_DIR/vcap;
# VM_DIR/ready says so. Every command on the VM joins this namespace, so there is one overlay
# per VM (two mounts sharing an upper directory are undefined behaviour).
set -e
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/etc-upper,workdir=$1/etc-work" /etc
mount -t overlay overlay -o "lowerdir=/var,upperdir=$1/var-upper,workdir=$1/var-work" /var
mkdir -p /var/vcap
mount --bind "$1/vcap" /var/vcap
touch "$1/ready"
exec -a local-vm-holder sleep infinity
