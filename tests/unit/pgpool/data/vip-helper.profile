# pgguard-launch profile: the VIP broker, `pgguard-vip serve --config FILE`, the one process
# of the release that holds privilege: CAP_NET_ADMIN (the VIP's address over NETLINK_ROUTE) and
# CAP_NET_RAW (its ARP announcement over AF_PACKET), as bounding + ambient capabilities of an
# unprivileged user. It runs for as long as pgpool runs and does both in-process for the one
# client its configuration names (pgpool, over a unix socket): it executes nothing, and nothing
# it could execute would hold more than it does (docs/sandbox.md, "The VIP broker").
#
# pgpool is the client's primary group (pgpool's): the socket is created 0660 with it, so
# pgpool can connect and nobody else outside the two accounts can (the broker still checks
# the peer's uid on every connection).

user = pgpool-vip
group = pgpool
# Files it creates get at most rw-rw---- (the socket: 0660, which the broker checks); with no
# chmod in its syscall groups it can never make a file executable.
umask = 0117
workdir = /var/vcap/sys/run/pgpool-vip/socket

[rlimit]
# stdio, the listening socket, one connection, a signalfd, a netlink or packet socket.
nofile = 16:16
# It never forks (no clone in its groups); the limit is per user.
nproc = 16:16
core = 0:0
as = 256M:256M

[capabilities]
bounding = CAP_NET_ADMIN, CAP_NET_RAW
ambient = CAP_NET_ADMIN, CAP_NET_RAW

[seccomp]
group = base
group = vip-broker
# Its own unix socket and if_nametoindex (AF_UNIX), the VIP's address (NETLINK_ROUTE only: no
# NETLINK_NETFILTER, so no firewall change), the announcement (AF_PACKET, SOCK_DGRAM).
socket = AF_UNIX, AF_NETLINK:NETLINK_ROUTE, AF_PACKET:SOCK_DGRAM
default_action = errno

[landlock]
# The program itself (a static PIE: no loader, no library directory), its configuration and
# the account file that names its client. Nothing else to read, nothing else to execute.
execute = /var/vcap/packages/pgguard/bin/pgguard-vip
read = /var/vcap/data/pgpool/config/vip.conf
read = /etc/passwd
# The socket. Its log is the stderr monit's start program opened for it.
write = /var/vcap/sys/run/pgpool-vip/socket
scope = abstract_unix_socket, signal
