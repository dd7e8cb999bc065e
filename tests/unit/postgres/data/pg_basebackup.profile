# pgguard-launch profile: pg_basebackup for a new standby (plain format, WAL streamed by a
# forked child, -R writes standby.signal and primary_conninfo).

user = postgres
group = postgres
umask = 0077
env = LANG=C.UTF-8
env_pass = PGPASSFILE
env_pass = PGSSLMODE

[rlimit]
nofile = 1024:1024
nproc = 2048:2048
core = 0:0

[capabilities]
# None.

[seccomp]
group = base
group = network-client
group = replication
# libpq over TCP (or the unix socket); no netlink, packet, vsock or crypto socket.
socket = AF_UNIX, AF_INET, AF_INET6
default_action = errno

[landlock]
execute = /usr
# The postgres-15 package (programs, libraries, share/): /var/vcap/packages on a VM.
execute = /var/vcap/packages/postgres-15
read = /etc
read = /proc
read = /dev/urandom
write = /var/vcap/store/pg-standby/data.basebackup
write = /dev/null
# Only the primary's port (/var/vcap/sys/run/pg-standby is for a unix-socket connection, which Landlock does
# not restrict but DAC does).
read = /var/vcap/sys/run/pg-standby
# The CA certificate and the password file of the replication connection (TLS verify-full).
read = /var/vcap/data/pg-standby/config
connect_tcp = 5432
# Landlock ABI 6: no signal to, and no abstract unix socket of, a process outside this sandbox
# (the process and its children form one domain; monit, the jobs and root are outside).
scope = abstract_unix_socket, signal
