#!/usr/bin/python3
"""Turn the strace traces of run-workloads.sh into src/sandbox/syscall_groups.cpp.

Usage: generate-groups.py TRACEDIR [OUTPUT.cpp]   (default output: print a report only)

Every trace is split per program (the basename of the last successful execve of each pid,
inherited across fork), so the syscalls of helpers that the server runs (sh, cp, gzip for
archive_command and COPY PROGRAM) can be told apart from the server's own.

Groups, from the measured sets (M(x) = syscalls of trace x):
  base            the intersection over all profiles but the VIP helper, plus the
                  vDSO calls strace cannot see (they become real syscalls on a clocksource
                  without vDSO support) and the exit/signal-return calls
  network-client  socket calls of the clients (pg_basebackup, pg_rewind, support agent)
  network-server  further socket calls of the servers (postgres, pgpool)
  ipc-sysv        System V IPC of postgres and pgpool
  postgres-server what the postgres and initdb programs use beyond those
  shell-hooks     what the spawned helpers (sh, cp, gzip, rm...) use, plus the spawn calls
  replication     what pg_basebackup and pg_rewind (and the postgres it runs) use beyond base
  pgpool          what the pgpool program uses beyond base, network and IPC
  vip-broker      what the VIP broker (pgguard-vip serve) uses beyond base
  support-agent   what the agent (bash, psql, pg_dump, gzip) uses beyond base and network-client
Groups may overlap: each stands on its own beside base, the network groups and ipc-sysv.
The script then checks that each profile's groups cover everything measured for it, and that
no group holds a syscall of the always-killed list.
"""
import collections
import datetime
import os
import re
import sys

KILLED = {
    "ptrace", "bpf", "mount", "umount2", "unshare", "setns", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "pivot_root", "chroot", "swapon", "swapoff",
    "reboot", "acct", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "open_by_handle_at", "process_vm_readv", "process_vm_writev", "fsopen", "fsmount", "fsconfig",
    "move_mount", "open_tree", "fspick", "mount_setattr", "name_to_handle_at", "lookup_dcookie",
    "quotactl", "quotactl_fd", "iopl", "ioperm", "create_module", "get_kernel_syms",
    "query_module", "uselib", "nfsservctl", "vhangup", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "stime", "syslog",
}
NET = {
    "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
    "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg",
    "sendmmsg", "recvmmsg", "shutdown",
}
SPAWN = {"clone", "clone3", "fork", "vfork", "execve", "execveat", "wait4", "waitid"}
SYSV = {
    "semget", "semop", "semtimedop", "semctl", "shmget", "shmat", "shmdt", "shmctl", "msgget",
    "msgsnd", "msgrcv", "msgctl",
}
# Not visible to strace (served by the vDSO), but real syscalls when the clocksource has no
# vDSO support (e.g. some hypervisors): a filter without them would break time keeping there.
VDSO = {"clock_gettime", "clock_getres", "gettimeofday", "time", "getcpu"}
# Always needed but sometimes absent from a short trace: the exit and signal-return calls,
# and mremap, which glibc's realloc uses for large (mmapped) blocks in any program (found by
# the staging run of sandbox_replication.sh: pg_basebackup reallocating a large buffer).
BASE_EXTRA = {"exit", "exit_group", "rt_sigreturn", "restart_syscall", "mremap"}

# Programs that are a profile's own target; the others in a trace are spawned helpers.
MAIN_PROGRAMS = {"postgres", "initdb", "pgpool", "pg_basebackup", "pg_rewind"}

# trace file -> profile
TRACE_PROFILE = {
    "initdb": "initdb",
    "server-primary": "postgres-server",
    "server-standby": "postgres-server",
    "pg_basebackup": "pg_basebackup",
    "pg_basebackup-tar": "pg_basebackup",
    "pg_rewind": "pg_rewind",
    "pgpool": "pgpool",
    "pgpool-watchdog-1": "pgpool-watchdog",
    "pgpool-watchdog-2": "pgpool-watchdog",
    "vip-broker": "vip-helper",
    "support-agent": "support-agent",
}
# profile -> groups; must match tests/integration/sandbox/profiles/*.conf.in
PROFILE_GROUPS = {
    "postgres-server": ["base", "postgres-server", "network-server", "network-client", "ipc-sysv",
                        "shell-hooks", "replication"],
    "initdb": ["base", "postgres-server", "ipc-sysv", "shell-hooks"],
    "pg_basebackup": ["base", "network-client", "replication"],
    "pg_rewind": ["base", "network-client", "replication", "shell-hooks"],
    "pgpool": ["base", "network-server", "network-client", "ipc-sysv", "shell-hooks", "pgpool"],
    "pgpool-watchdog": ["base", "network-server", "network-client", "ipc-sysv", "shell-hooks",
                        "pgpool", "watchdog"],
    "vip-helper": ["base", "vip-broker"],
    "support-agent": ["base", "network-client", "shell-hooks", "support-agent"],
    "postgres-fence": ["base", "network-client", "shell-hooks", "fence"],
}
# Groups measured outside run-workloads.sh (no trace here), carried as measured: the fence
# needs a primary and its peer promoted past it, over TLS (see syscall_groups.cpp's note).
HAND_MEASURED = {
    "fence": {"chdir", "clock_nanosleep", "kill", "pipe2", "poll", "sysinfo"},
}
DESCRIPTIONS = {
    "base": "every process: memory, files, signals, time, exit",
    "postgres-server": "postmaster, backends, auxiliary processes, parallel workers, JIT, initdb",
    "network-server": "listening TCP and unix sockets (postgres, pgpool)",
    "network-client": "outgoing TCP and unix connections (libpq clients, walreceiver)",
    "ipc-sysv": "System V semaphores and shared memory (pgpool; postgres' small sysv segment)",
    "shell-hooks": "fork and exec of archive_command, COPY PROGRAM, failover scripts, and the "
                   "shell and coreutils they run",
    "replication": "pg_basebackup and pg_rewind (walsender and walreceiver are in postgres-server)",
    "pgpool": "pgpool-II 4.3 beyond the network and IPC groups (watchdog off)",
    "watchdog": "pgpool-II 4.3's watchdog beyond the pgpool group: cluster, heartbeat, lifecheck",
    "vip-broker": "the VIP broker: its unix socket, rtnetlink for the VIP's address, a packet "
                  "socket to announce it (ARP)",
    "support-agent": "a co-located metrics or backup agent (bash, psql, pg_dump, gzip)",
    "fence": "the fence (pgguard-fence): its sleep, psql children and their poll, the signal "
             "to its own postmaster",
}
GROUP_ORDER = list(DESCRIPTIONS)
# How each group is derived from the traces (M(x): syscalls measured in trace x).
DERIVATION = {
    "base": "intersection of all profiles' traces but the VIP helper's, + vDSO calls, exit, mremap",
    "postgres-server": "the postgres and initdb programs (all traces) - base - network - SysV IPC",
    "network-server": "socket calls of the postgres and pgpool traces - base - network-client",
    "network-client": "socket calls of the pg_basebackup, pg_rewind and support-agent traces - base",
    "ipc-sysv": "SysV IPC calls of all traces",
    "shell-hooks": "programs spawned by postgres/initdb/pgpool (sh, cp, gzip, rm, locale) + spawn calls",
    "replication": "M(pg_basebackup) + M(pg_rewind) - base - socket calls",
    "pgpool": "the pgpool program with the watchdog off - base - network - SysV IPC",
    "watchdog": "M(pgpool-watchdog) - base - network groups - ipc-sysv - shell-hooks - pgpool",
    "vip-broker": "the pgguard-vip program (serve, unprivileged with ambient caps) - base",
    "support-agent": "M(support-agent) - base - network-client",
    "fence": "measured by hand (HAND_MEASURED): M(pgguard-fence + psql) - base - network-client - shell-hooks",
}

CALL = re.compile(r"^(\d+) +([a-z0-9_]+)\(")
RESUMED = re.compile(r"^(\d+) +<\.\.\. ([a-z0-9_]+) resumed>")
RETVAL = re.compile(r"= (\d+)(?: <[^>]*>)?$")
EXEC_PATH = re.compile(r'execve\("([^"]+)"')


def parse(path):
    """Return {program: set(syscalls)} for one `strace -f -o` file."""
    lines = open(path, errors="replace").read().splitlines()
    parent = {}
    first_line = {}
    execs = collections.defaultdict(list)  # pid -> [(line index, program)]
    pending_exec = {}
    for index, line in enumerate(lines):
        match = CALL.match(line) or RESUMED.match(line)
        if not match:
            continue
        pid, name = int(match.group(1)), match.group(2)
        first_line.setdefault(pid, index)
        if name == "execve":
            path_match = EXEC_PATH.search(line)
            if path_match:
                pending_exec[pid] = os.path.basename(path_match.group(1))
            if line.rstrip().endswith("= 0") and pid in pending_exec:
                execs[pid].append((index, pending_exec.pop(pid)))
        if name in {"clone", "clone3", "fork", "vfork"}:
            ret = RETVAL.search(line.rstrip())
            if ret and int(ret.group(1)) > 0:
                parent[int(ret.group(1))] = (pid, index)

    def program_at(pid, index, depth=0):
        for exec_index, program in reversed(execs.get(pid, [])):
            if exec_index <= index:
                return program
        if pid in parent and depth < 64:
            ppid, fork_index = parent[pid]
            return program_at(ppid, fork_index, depth + 1)
        return "?"

    sets = collections.defaultdict(set)
    for index, line in enumerate(lines):
        match = CALL.match(line)
        if match:
            pid, name = int(match.group(1)), match.group(2)
            sets[program_at(pid, index)].add(name)
    return sets


def main():
    trace_dir = sys.argv[1]
    output = sys.argv[2] if len(sys.argv) > 2 else None
    per_profile = collections.defaultdict(set)
    per_program = collections.defaultdict(set)  # main programs, over all traces
    helpers = set()  # syscalls of spawned helper programs (sh, cp, gzip, rm, locale)
    spawners = set()  # spawn syscalls of any program
    helper_names = set()
    vip = set()
    for trace, profile in TRACE_PROFILE.items():
        path = os.path.join(trace_dir, trace + ".trace")
        if not os.path.exists(path):
            sys.exit(f"missing trace {path}: run run-workloads.sh first")
        for program, calls in parse(path).items():
            if profile == "vip-helper":
                if program == "pgguard-vip":
                    vip |= calls
                    per_profile[profile] |= calls
                continue
            per_profile[profile] |= calls
            spawners |= calls & SPAWN
            if profile == "pgpool-watchdog":
                continue  # its own group, derived below; not part of "pgpool"
            if program in MAIN_PROGRAMS:
                per_program[program] |= calls
            elif profile != "support-agent":
                helpers |= calls
                helper_names.add(program)
    for profile, calls in per_profile.items():
        if "clone3" in calls:  # the launcher answers clone3 with ENOSYS; glibc falls back to clone
            calls.add("clone")
        killed = calls & KILLED
        if killed:
            print(f"WARNING: {profile} used always-killed syscalls {sorted(killed)}; left out",
                  file=sys.stderr)
            calls -= KILLED

    union = set().union(*per_profile.values())
    groups = {}
    # The VIP broker is too small to define "every process"; it gets base anyway.
    groups["base"] = set.intersection(
        *(calls for profile, calls in per_profile.items() if profile != "vip-helper")) | VDSO | \
        BASE_EXTRA
    base = groups["base"]
    clients = per_profile["pg_basebackup"] | per_profile["pg_rewind"] | per_profile["support-agent"]
    groups["network-client"] = (NET & clients) - base
    groups["network-server"] = (NET & (per_profile["postgres-server"] | per_profile["pgpool"])) - \
        base - groups["network-client"]
    groups["ipc-sysv"] = SYSV & union
    # Groups overlap where programs share needs (rt_sigaction is in postgres-server and in
    # shell-hooks): each group stands on its own beside base, network-* and ipc-sysv.
    groups["postgres-server"] = (per_program["postgres"] | per_program["initdb"]) - base - NET - SYSV
    groups["shell-hooks"] = (helpers | spawners) - base - NET - SYSV
    groups["replication"] = (per_profile["pg_basebackup"] | per_profile["pg_rewind"]) - base - NET
    groups["pgpool"] = per_program["pgpool"] - base - NET - SYSV
    groups["watchdog"] = per_profile["pgpool-watchdog"] - base - groups["network-server"] - \
        groups["network-client"] - groups["ipc-sysv"] - groups["shell-hooks"] - groups["pgpool"]
    groups["vip-broker"] = vip - base
    groups["support-agent"] = per_profile["support-agent"] - base - groups["network-client"]
    groups.update(HAND_MEASURED)
    for name in groups:
        groups[name] -= KILLED

    ok = True
    for profile, names in PROFILE_GROUPS.items():
        covered = set().union(*(groups[n] for n in names))
        missing = per_profile[profile] - covered
        if missing:
            ok = False
            print(f"ERROR: profile {profile} misses {sorted(missing)}", file=sys.stderr)
        print(f"profile {profile:16} measured {len(per_profile[profile]):3}  allowed {len(covered):3}")
    print(f"distinct syscalls measured: {len(union)}; helpers seen: {sorted(helper_names)}")
    for name in GROUP_ORDER:
        print(f"  {name:16} {len(groups[name]):3}: {' '.join(sorted(groups[name]))}")
    if not ok:
        sys.exit(1)
    if output:
        versions = open(os.path.join(trace_dir, "versions.txt")).read().strip().splitlines()
        write_cpp(output, groups, versions, len(union))


def write_cpp(output, groups, versions, distinct):
    out = []
    out.append('#include "sandbox/syscall_groups.hpp"\n')
    out.append("#include <array>\n#include <string_view>\n")
    out.append("// GENERATED by tests/integration/sandbox/measure/generate-groups.py from strace traces of")
    out.append("// tests/integration/sandbox/measure/run-workloads.sh; regenerate, do not edit by hand:")
    out.append("//   sudo tests/integration/sandbox/measure/run-workloads.sh /tmp/traces")
    out.append("//   tests/integration/sandbox/measure/generate-groups.py /tmp/traces src/sandbox/syscall_groups.cpp")
    out.append("//   clang-format -i src/sandbox/syscall_groups.cpp")
    out.append("// Measured with `strace -f -qq -u postgres -o TRACE` on:")
    for line in versions:
        out.append(f"//   {line}")
    out.append(f"// {distinct} distinct syscalls over all workloads. Workloads (see run-workloads.sh):")
    out.append("//   initdb -k; postgres primary: pgbench -i + tpcb-like + select-only, SQL workload with")
    out.append("//   parallel query, JIT (llvmjit, LLVM 14), temp-file sort and hash, COPY TO/FROM file and")
    out.append("//   PROGRAM, tablespace, CREATE/DROP DATABASE, ALTER SYSTEM + reload, large objects,")
    out.append("//   LISTEN/NOTIFY, archive_command; walsender for pg_basebackup (plain+stream, tar+gzip);")
    out.append("//   streaming standby, promoted; pg_rewind over libpq; pgpool-II (watchdog off,")
    out.append("//   streaming-replication mode, health and sr checks, load balancing, PCP); three pgpool")
    out.append("//   nodes with the watchdog (heartbeat, quorum, leader stopped and re-elected); the VIP")
    out.append("//   broker (pgguard-vip serve: up, announce, down and refused requests) in a network")
    out.append("//   namespace, unprivileged with ambient CAP_NET_ADMIN + CAP_NET_RAW; a bash agent running")
    out.append("//   psql and pg_dump | gzip.")
    out.append("// How each group is derived is documented in generate-groups.py. base also holds the vDSO")
    out.append("// calls (clock_gettime, gettimeofday, time, getcpu, clock_getres), which strace cannot see")
    out.append("// but which are real syscalls on clocksources without vDSO support, and mremap (glibc's")
    out.append("// realloc of large blocks, in any program; found by a staging run). Where clone3 was")
    out.append("// measured, clone is added: the launcher answers clone3 with ENOSYS and glibc falls back.")
    out.append("// No group holds a syscall of the always-killed list.\n")
    out.append("namespace pgguard::sandbox {\nnamespace {\n")
    out.append("using namespace std::string_view_literals;\n")
    out.append("// One dense, sorted list per group reads better than one name a line.")
    out.append("// clang-format off")
    for name in GROUP_ORDER:
        ident = name.replace("-", "_") + "_syscalls"
        out.append(f"// {name}: {DERIVATION[name]}")
        out.append(f"constexpr std::array {ident}{{")
        line = "   "
        for call in sorted(groups[name]):
            item = f' "{call}"sv,'
            if len(line) + len(item) > 100:
                out.append(line)
                line = "   "
            line += item
        out.append(line)
        out.append("};")
    out.append("// clang-format on\n")
    out.append("constexpr std::array groups{")
    for name in GROUP_ORDER:
        ident = name.replace("-", "_") + "_syscalls"
        out.append(f'    SyscallGroup{{"{name}", "{DESCRIPTIONS[name]}", {ident}}},')
    out.append("};\n\n}  // namespace\n")
    out.append("std::span<const SyscallGroup> syscall_groups() { return groups; }\n")
    out.append("const SyscallGroup* find_syscall_group(std::string_view name) {")
    out.append("  for (const SyscallGroup& group : groups) {\n    if (group.name == name) {")
    out.append("      return &group;\n    }\n  }\n  return nullptr;\n}\n")
    out.append("}  // namespace pgguard::sandbox")
    with open(output, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
