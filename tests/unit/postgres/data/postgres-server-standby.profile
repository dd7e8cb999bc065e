# pgguard-launch profile: PostgreSQL 15 server (postmaster and every process it forks:
# backends, walsender/walreceiver, checkpointer, archiver, parallel workers, JIT).
# The children inherit everything below, including what archive_command and COPY PROGRAM
# run (sh, cp, gzip).

user = postgres
group = postgres
umask = 0077
workdir = /var/vcap/store/pg-standby/data
env = PGDATA=/var/vcap/store/pg-standby/data
env = LANG=C.UTF-8
# archive_command and COPY PROGRAM run through /bin/sh, which needs a PATH.
env = PATH=/usr/bin:/bin
env_pass = TZ

[rlimit]
# max_connections (100) x max_files_per_process (1000) is bounded by this, per process.
nofile = 4096:4096
# RLIMIT_NPROC counts every process of the user: postgres forks one per connection.
nproc = 2048:2048
core = 0:0
# max_stack_depth (2MB) must stay below the soft stack limit.
stack = 8M:8M

[capabilities]
# None: empty bounding set, nothing ambient. Postgres needs no privilege.

[seccomp]
group = base
group = postgres-server
group = network-server
group = network-client
group = ipc-sysv
group = shell-hooks
group = replication
# Its listeners, the walreceiver's libpq and the stats/nscd unix sockets; nothing else.
socket = AF_UNIX, AF_INET, AF_INET6
default_action = errno

[landlock]
# Binaries, libraries (llvmjit, LLVM), timezone and locale data, passwd/group lookups.
execute = /usr
# The postgres-15 package (programs, libraries, share/): /var/vcap/packages on a VM.
execute = /var/vcap/packages/postgres-15
read = /etc
read = /proc
read = /sys
read = /dev/urandom
read = /var/vcap/data/pg-standby/config
write = /var/vcap/store/pg-standby/data
write = /var/vcap/sys/run/pg-standby
write = /var/vcap/sys/log/pg-standby
write = /var/vcap/store/pg-standby/archive
write = /var/vcap/data/pg-standby/scratch
# dynamic_shared_memory_type = posix (parallel query) creates /dev/shm/PostgreSQL.*
write = /dev/shm
write = /dev/null
bind_tcp = 5432
# A standby's walreceiver connects to its primary.
connect_tcp = 5432
# Landlock ABI 6: no signal to, and no abstract unix socket of, a process outside this sandbox
# (the process and its children form one domain; monit, the jobs and root are outside).
scope = abstract_unix_socket, signal
