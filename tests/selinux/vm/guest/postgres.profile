# pgguard-launch profile for postgres and initdb in the SELinux enforcing test guest.
# The test is about SELinux, so the launcher's other layers are opened wide enough that only
# SELinux stands between postgres and the forbidden operations (Landlock runs before SELinux
# and would otherwise refuse them first, leaving no AVC line): seccomp only logs, Landlock
# allows /var (packages, every job's store) and the test's ports. /var is `write_execute`, the
# explicit waiver of W^X: the packages postgres runs from lie beneath it, and what may be
# executed there is SELinux's to decide here. The user switch, no_new_privs and the exec
# context are the real thing.
user = vcap
env_pass = PATH
[seccomp]
group = base, postgres-server, network-server, network-client, shell-hooks, ipc-sysv
default_action = log
# log allows everything outside the allowlist; the launcher takes it only with this switch.
staging = true
[landlock]
execute = /usr
read = /etc
read = /proc
read = /sys
write_execute = /var
write = /dev
write = /tmp
write = /run
bind_tcp = 5432, 5433
connect_tcp = 5432, 22
[selinux]
context = system_u:system_r:secpg_postgres_t:s0
required = true
