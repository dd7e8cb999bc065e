# pgguard-launch profile: initdb for PostgreSQL 15. initdb runs `postgres --boot` and
# `postgres --single` through popen (sh), so those inherit this profile.

user = postgres
group = postgres
umask = 0077
env = LANG=C.UTF-8
env = PATH=/usr/bin:/bin

[rlimit]
nofile = 1024:1024
nproc = 2048:2048
core = 0:0
stack = 8M:8M

[capabilities]
# None.

[seccomp]
group = base
group = postgres-server
group = ipc-sysv
group = shell-hooks
# initdb and its bootstrap postgres open no network socket; AF_UNIX for glibc's nscd probe.
socket = AF_UNIX
default_action = errno

[landlock]
execute = /usr
# The postgres-15 package (programs, libraries, share/): /var/vcap/packages on a VM.
execute = /var/vcap/packages/postgres-15
read = /etc
read = /proc
read = /sys
read = /dev/urandom
# initdb creates DATA_DIR itself when its parent is writable; the tests create it empty.
write = /var/vcap/store/pg-master/data
write = /dev/shm
write = /dev/null
# No TCP at all: with Landlock ABI >= 4, no ports listed means no bind and no connect.
# Landlock ABI 6: no signal to, and no abstract unix socket of, a process outside this sandbox
# (the process and its children form one domain; monit, the jobs and root are outside).
scope = abstract_unix_socket, signal
