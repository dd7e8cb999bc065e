# pgguard-launch profile: pgpool-II 4.3 with its watchdog, as production runs it (three nodes,
# heartbeat lifecheck, quorum): everything of pgpool.conf.in plus the watchdog group, the
# watchdog port to bind, and the other nodes' watchdog and pgpool ports to connect to. The
# heartbeat is UDP (Landlock's network rules cover TCP only). No VIP here: if_up_cmd and
# arping_cmd call the separate vip-helper, never capabilities of pgpool itself, and
# heartbeat_device stays empty (binding to a device needs root).

user = pgpool
group = pgpool
umask = 0077
workdir = /var/vcap/data/pgpool/state
env = LANG=C.UTF-8
env = PATH=/usr/bin:/bin

[rlimit]
# num_init_children x (max_pool backends + 1 client) sockets, plus files.
nofile = 4096:4096
nproc = 2048:2048
core = 0:0

[capabilities]
# None.

[seccomp]
group = base
group = network-server
group = network-client
group = ipc-sysv
# failover/follow-primary commands and the memqcache oid-dir cleanup (rm) are exec'd.
group = shell-hooks
group = pgpool
group = watchdog
# Clients, backends, PCP, the watchdog and heartbeat (UDP) and the ping helper's ICMP
# datagram sockets (AF_INET/AF_INET6); the watchdog's VIP monitoring listens for address
# changes on rtnetlink (NETLINK_ROUTE only: no NETLINK_NETFILTER).
socket = AF_UNIX, AF_INET, AF_INET6, AF_NETLINK:NETLINK_ROUTE
default_action = errno

[landlock]
execute = /usr
# pgpool's directory, the postgres-15 package (libpq) and pgguard's (ping, the VIP client).
execute = /var/vcap/packages/pgpool2/bin
execute = /var/vcap/packages/postgres-15
execute = /var/vcap/packages/pgguard
read = /etc
read = /proc
read = /dev/urandom
read = /var/vcap/data/pgpool/config
write = /var/vcap/data/pgpool/state
write = /var/vcap/sys/run/pgpool
write = /var/vcap/sys/log/pgpool
write = /dev/shm
write = /dev/null
# Client, PCP and watchdog ports.
bind_tcp = 9999
bind_tcp = 9898
bind_tcp = 9000
# The backends, and the other nodes' watchdog and pgpool ports.
connect_tcp = 5432,9000,9999
# Landlock ABI 6: no signal to, and no abstract unix socket of, a process outside this sandbox
# (the process and its children form one domain; monit, the jobs and root are outside).
scope = abstract_unix_socket, signal
