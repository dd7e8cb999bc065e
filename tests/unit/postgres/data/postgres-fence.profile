# pgguard-launch profile: pgguard-fence beside a PostgreSQL node (docs/high-availability.md,
# "The fence"). Every few seconds it asks its own server over the unix socket and its peer
# over TLS (IDENTIFY_SYSTEM) which timeline each is on, through psql children, and sends its
# own postmaster SIGINT when the peer was promoted past it. The same account as the server
# (a signal crosses no account), none of the server's syscalls, nothing to write.

user = postgres
group = postgres
umask = 0077
env = LANG=C.UTF-8
env = PATH=/usr/bin:/bin

[rlimit]
nofile = 256:256
# The fence and one psql at a time; the account's processes are counted together with the
# server's, which has its own limit.
nproc = 2048:2048
core = 0:0

[capabilities]
# None.

[seccomp]
group = base
group = network-client
group = shell-hooks
group = fence
# psql over the unix socket and TLS to the peer.
socket = AF_UNIX, AF_INET, AF_INET6
default_action = errno

[landlock]
# psql and its libraries, passwd lookups, /proc for the postmaster's comm and uid.
execute = /usr
execute = /var/vcap/packages/postgres-15
read = /etc
read = /proc
read = /dev/urandom
# The program itself (static: no loader, no library directory).
execute = /var/vcap/packages/pgguard/bin/pgguard-fence
# The server's socket and monit's pid file of the postmaster.
read = /var/vcap/sys/run/pg-master
# The CA certificate and the replication role's password file (TLS verify-full to the peer).
read = /var/vcap/data/pg-master/config
write = /dev/null
connect_tcp = 5432
# Landlock ABI 6: no abstract unix socket outside this sandbox. No signal scope: the fence
# signals its own postmaster, which runs in another sandbox (the same account is what allows it).
scope = abstract_unix_socket
