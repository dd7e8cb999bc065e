// Sandbox probe: run under pgguard-launch with a profile, it attempts what the profile must
// forbid. Modes:
//   probe killed NAME     make syscall NAME of the always-killed list (all arguments -1, so
//                         it would fail harmlessly even unsandboxed); the sandbox must kill
//                         the process with SIGSYS, so returning at all exits 1
//   probe x32             getpid through the x32 ABI (number | 0x40000000): must be killed
//   probe int80           getpid through `int 0x80` (i386 entry): must be killed
//   probe status          print identity, capability, no_new_privs and seccomp lines of
//                         /proc/self/status (for setuid and file-capability copies of this
//                         binary: their privileges must not take effect)
//   probe denials [--outside DIR]... [--read-only DIR]... [--landlock-abi N]
//                 [--bind-port P] [--connect-port P]
//                         try every in-process forbidden operation, print one line per
//                         attempt and "attempts N, denied M"; exit 0 only if all denied
//   probe read-only DIR [--landlock-abi N]
//                         only the write attempts on DIR that `--read-only` makes, outside
//                         any sandbox: the test's control that file permissions allow each
//                         one (so that under a profile only Landlock can refuse them)
//   probe socket-families one socket(2) per family the profiles must not get by accident
//                         (netlink protocols, packet, vsock, crypto, key): prints
//                         "NAME worked" or "NAME <errno text>" per line; the test compares
//                         that with the same run outside the sandbox and with explain's rules
//   probe signal PID      kill(PID, SIGCONT); probe abstract-connect NAME: connect to the
//                         abstract unix socket NAME. Each prints what happened and exits 0
//                         when it worked, 1 when refused (EPERM/EACCES), 2 otherwise: the test
//                         compares that with what explain says of the profile's Landlock scope
// The test driving it is sandbox_probe.sh.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/killed_syscalls.hpp"

namespace {

struct KilledSyscall {
  std::string_view name;
  long number;
};

// The kernel headers' number for a killed name, or the launcher's own number for one newer than
// them: a name the launcher adds that neither numbers fails this build instead of going
// untested.
#define PROBE_NUMBER_OF(name) SYS_##name
#ifndef SYS_lsm_set_self_attr
#define SYS_lsm_set_self_attr \
  pgguard::sandbox::number_newer_than_the_build_host("lsm_set_self_attr")
#endif
#define PROBE_KILLED_ENTRY(name) KilledSyscall{#name, PROBE_NUMBER_OF(name)},

// The launcher's always-killed list itself (src/sandbox/killed_syscalls.hpp), so the probe
// attempts every name the launcher kills and cannot fall behind it.
constexpr std::array killed_syscalls{PGGUARD_ALWAYS_KILLED_SYSCALLS(PROBE_KILLED_ENTRY)};
static_assert(
    [] {
      for (const KilledSyscall& entry : killed_syscalls) {
        if (entry.number < 0) {
          return false;
        }
      }
      return true;
    }(),
    "every killed system call needs a number");

int list_killed() {
  for (const KilledSyscall& entry : killed_syscalls) {
    std::cout << entry.name << '\n';
  }
  return 0;
}

// Every argument is -1: an invalid fd, pointer, pid, magic, length or request for each call
// of the list, so an unsandboxed run fails with EBADF/EFAULT/EINVAL and changes nothing.
int call_killed(std::string_view name) {
  for (const KilledSyscall& entry : killed_syscalls) {
    if (entry.name == name) {
      const long result = syscall(entry.number, -1L, -1L, -1L, -1L, -1L, -1L);
      const int saved = errno;
      std::cout << "NOT KILLED: " << name << " returned " << result << " ("
                << (result == -1 ? std::strerror(saved) : "success") << ")\n";
      return 1;
    }
  }
  std::cerr << "probe: unknown killed syscall " << name << '\n';
  return 2;
}

constexpr long x32_syscall_bit = 0x40000000L;

int call_x32() {
  const long result = syscall(x32_syscall_bit | SYS_getpid);
  std::cout << "NOT KILLED: x32 getpid returned " << result << '\n';
  return 1;
}

int call_int80() {
  constexpr long i386_getpid = 20;
  long result = i386_getpid;
  asm volatile("int $0x80" : "+a"(result) : : "memory");
  std::cout << "NOT KILLED: int 0x80 getpid returned " << result << '\n';
  return 1;
}

int print_status() {
  std::ifstream status("/proc/self/status");
  if (!status) {
    std::cerr << "probe: cannot read /proc/self/status: " << std::strerror(errno) << '\n';
    return 2;
  }
  std::string line;
  while (std::getline(status, line)) {
    for (std::string_view key : {"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
                                 "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"}) {
      if (line.starts_with(key)) {
        std::cout << line << '\n';
      }
    }
  }
  return 0;
}

class Tally {
 public:
  // A precondition of the attempts that must hold, or their denials prove nothing.
  void control(const std::string& what, bool held, const std::string& detail) {
    if (!held) {
      control_failed_ = true;
      std::cout << "CONTROL FAILED " << what << ": " << detail << '\n';
    }
  }
  // `succeeded`: the forbidden operation took effect. `detail` says how it was refused.
  void record(const std::string& what, bool succeeded, const std::string& detail) {
    ++attempts_;
    if (succeeded) {
      std::cout << "ALLOWED " << what << ": " << detail << '\n';
    } else {
      ++denied_;
      std::cout << "denied  " << what << ": " << detail << '\n';
    }
  }
  // For calls that return -1 and set errno when refused.
  void record_call(const std::string& what, long result) {
    const int saved = errno;
    record(what, result != -1,
           result == -1 ? std::strerror(saved) : "returned " + std::to_string(result));
  }
  int finish() const {
    std::cout << "attempts " << attempts_ << ", denied " << denied_ << '\n';
    return attempts_ > 0 && attempts_ == denied_ && !control_failed_ ? 0 : 1;
  }
  bool controls_held() const { return !control_failed_; }

 private:
  bool control_failed_ = false;
  int attempts_ = 0;
  int denied_ = 0;
};

void try_identity(Tally& tally) {
  tally.record_call("setuid(0)", setuid(0));
  tally.record_call("setresuid(0,0,0)", setresuid(0, 0, 0));
  tally.record_call("setgid(0)", setgid(0));
  const gid_t root_group = 0;
  tally.record_call("setgroups({0})", setgroups(1, &root_group));
}

void try_capabilities(Tally& tally) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  std::array<__user_cap_data_struct, 2> all{};
  for (auto& half : all) {
    half.effective = half.permitted = half.inheritable = ~0U;
  }
  tally.record_call("capset(all capabilities)", syscall(SYS_capset, &header, all.data()));
  tally.record_call("prctl(PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN)",
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0));
  tally.record_call("prctl(PR_SET_SECUREBITS, 0)", prctl(PR_SET_SECUREBITS, 0, 0, 0, 0));
  // no_new_privs cannot be cleared once set: the kernel answers EINVAL.
  tally.record_call("prctl(PR_SET_NO_NEW_PRIVS, 0)", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

void try_rlimits(Tally& tally) {
  for (auto [resource, name] :
       {std::pair{RLIMIT_NOFILE, "NOFILE"}, std::pair{RLIMIT_NPROC, "NPROC"},
        std::pair{RLIMIT_CORE, "CORE"}, std::pair{RLIMIT_CPU, "CPU"}}) {
    rlimit limit{};
    if (getrlimit(resource, &limit) != 0) {
      tally.record(std::string("getrlimit ") + name, true, "getrlimit failed");
      continue;
    }
    if (limit.rlim_max == RLIM_INFINITY) {
      continue;  // nothing above unlimited: the profile does not bound this one
    }
    rlimit raised = limit;
    raised.rlim_max = limit.rlim_max + 1;
    raised.rlim_cur = limit.rlim_cur;
    tally.record_call(
        std::string("raise hard RLIMIT_") + name + " to " + std::to_string(raised.rlim_max),
        setrlimit(resource, &raised));
  }
  tally.record_call("setpriority(-10)", setpriority(PRIO_PROCESS, 0, -10));
  sched_param param{};
  param.sched_priority = 1;
  tally.record_call("sched_setscheduler(SCHED_FIFO)", sched_setscheduler(0, SCHED_FIFO, &param));
}

void try_namespaces(Tally& tally) {
  for (auto [flag, name] :
       {std::pair{CLONE_NEWUSER, "CLONE_NEWUSER"}, std::pair{CLONE_NEWNET, "CLONE_NEWNET"},
        std::pair{CLONE_NEWNS, "CLONE_NEWNS"}}) {
    const long child = syscall(SYS_clone, static_cast<long>(flag) | SIGCHLD, 0L, 0L, 0L, 0L);
    if (child == 0) {
      _exit(0);
    }
    const int saved = errno;
    if (child > 0) {
      waitpid(static_cast<pid_t>(child), nullptr, 0);
    }
    errno = saved;
    tally.record_call(std::string("clone(") + name + ")", child);
  }
  // clone3's flags live in memory seccomp cannot read, so it must be answered with ENOSYS.
  struct {
    std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args{CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0};
  const long child = syscall(SYS_clone3, &args, sizeof args);
  if (child == 0) {
    _exit(0);
  }
  const int saved = errno;
  if (child > 0) {
    waitpid(static_cast<pid_t>(child), nullptr, 0);
  }
  tally.record("clone3(CLONE_NEWUSER)", child != -1 || saved != ENOSYS,
               child == -1 ? std::strerror(saved) : "returned " + std::to_string(child));
}

void try_writes(Tally& tally, const std::vector<std::string>& outside) {
  for (const std::string& dir : outside) {
    const std::string file = dir + "/pgguard-probe-" + std::to_string(getpid());
    const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    const int saved = errno;
    if (fd >= 0) {
      close(fd);
      unlink(file.c_str());
    }
    errno = saved;
    tally.record_call("create " + file, fd);
    const std::string subdir = file + ".d";
    const int made = mkdir(subdir.c_str(), 0700);
    if (made == 0) {
      rmdir(subdir.c_str());
    }
    tally.record_call("mkdir " + subdir, made);
  }
}

// Writes into a directory the profile grants only `read =`, which the test made so that file
// permissions allow every one of them: the directory and its file `file` belong to the
// sandboxed user (modes 0755 and 0644), and so does its empty subdirectory `subdir`. Only
// Landlock's read-only rule can refuse them; a root-owned directory would refuse them by its
// mode and hide a rule that grants write rights. Whatever succeeds is undone at once as far as
// it can be (a truncated file stays empty: the test rewrites the file before each run), so each
// attempt finds the entries the test made. Truncation is a Landlock right from ABI 3 only.
void try_read_only(Tally& tally, const std::string& dir, int landlock_abi) {
  const std::string file = dir + "/file";
  {
    // The control: the read right is there, so a refused write is no refused lookup.
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    const int saved = errno;
    char byte = 0;
    const bool read_ok = fd >= 0 && read(fd, &byte, 1) == 1;
    if (fd >= 0) {
      close(fd);
    }
    tally.control("read " + file, read_ok, fd >= 0 ? "read failed" : std::strerror(saved));
  }
  const auto try_open = [&](const std::string& what, int flags) {
    const int fd = open(file.c_str(), flags | O_CLOEXEC);
    const int saved = errno;
    if (fd >= 0) {
      close(fd);
    }
    errno = saved;
    tally.record_call(what + " " + file, fd);
  };
  try_open("open O_WRONLY", O_WRONLY);
  try_open("open O_RDWR|O_APPEND", O_RDWR | O_APPEND);
  if (landlock_abi >= 3) {
    tally.record_call("truncate " + file, truncate(file.c_str(), 0));
  }
  const std::string created = dir + "/pgguard-probe-" + std::to_string(getpid());
  {
    const int fd = open(created.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const int saved = errno;
    if (fd >= 0) {
      close(fd);
      unlink(created.c_str());
    }
    errno = saved;
    tally.record_call("create " + created, fd);
  }
  const int made_dir = mkdir((created + ".d").c_str(), 0700);
  if (made_dir == 0) {
    rmdir((created + ".d").c_str());
  }
  tally.record_call("mkdir " + created + ".d", made_dir);
  const int made_fifo = mkfifo((created + ".fifo").c_str(), 0600);
  if (made_fifo == 0) {
    unlink((created + ".fifo").c_str());
  }
  tally.record_call("mkfifo " + created + ".fifo", made_fifo);
  const int made_link = symlink("file", (created + ".sym").c_str());
  if (made_link == 0) {
    unlink((created + ".sym").c_str());
  }
  tally.record_call("symlink " + created + ".sym", made_link);
  const int hard_link = link(file.c_str(), (created + ".link").c_str());
  if (hard_link == 0) {
    unlink((created + ".link").c_str());
  }
  tally.record_call("link " + file + " to " + created + ".link", hard_link);
  const int renamed = rename(file.c_str(), (created + ".renamed").c_str());
  if (renamed == 0) {
    rename((created + ".renamed").c_str(), file.c_str());
  }
  tally.record_call("rename " + file, renamed);
  const std::string subdir = dir + "/subdir";
  const int removed_dir = rmdir(subdir.c_str());
  if (removed_dir == 0) {
    mkdir(subdir.c_str(), 0755);
  }
  tally.record_call("rmdir " + subdir, removed_dir);
  // Last: the test puts the file back for the next profile should this succeed.
  tally.record_call("unlink " + file, unlink(file.c_str()));
}

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

void try_network(Tally& tally, int bind_port, int connect_port) {
  if (bind_port > 0) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      tally.record_call("socket for bind", fd);
    } else {
      const sockaddr_in address = loopback(bind_port);
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      tally.record_call("bind 127.0.0.1:" + std::to_string(bind_port),
                        bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address));
      close(fd);
    }
  }
  if (connect_port > 0) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      tally.record_call("socket for connect", fd);
    } else {
      const sockaddr_in address = loopback(connect_port);
      const int result = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
      const int saved = errno;
      close(fd);
      // A refused connection is no proof of a policy: the test keeps a listener on the port,
      // so only EACCES/EPERM (Landlock, seccomp) count as denied.
      const bool denied = result == -1 && (saved == EACCES || saved == EPERM);
      tally.record("connect 127.0.0.1:" + std::to_string(connect_port), !denied,
                   result == -1 ? std::strerror(saved) : "connected");
    }
  }
}

int run_denials(int argc, char** argv) {
  std::vector<std::string> outside;
  std::vector<std::string> read_only;
  int landlock_abi = 0;
  int bind_port = 0;
  int connect_port = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string_view option = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "probe: " << option << " needs a value\n";
      return 2;
    }
    const std::string value = argv[++i];
    if (option == "--outside") {
      outside.push_back(value);
    } else if (option == "--read-only") {
      read_only.push_back(value);
    } else if (option == "--landlock-abi") {
      landlock_abi = std::stoi(value);
    } else if (option == "--bind-port") {
      bind_port = std::stoi(value);
    } else if (option == "--connect-port") {
      connect_port = std::stoi(value);
    } else {
      std::cerr << "probe: unknown option " << option << '\n';
      return 2;
    }
  }
  Tally tally;
  try_identity(tally);
  try_capabilities(tally);
  try_rlimits(tally);
  try_namespaces(tally);
  try_writes(tally, outside);
  for (const std::string& dir : read_only) {
    try_read_only(tally, dir, landlock_abi);
  }
  try_network(tally, bind_port, connect_port);
  return tally.finish();
}

// The write attempts of `--read-only DIR` alone, for the unsandboxed control run: prints the
// same lines and tally (there, every attempt is expected to succeed), exits 0 unless a control
// failed.
int run_read_only(int argc, char** argv) {
  int landlock_abi = 0;
  if (argc == 5 && std::string_view(argv[3]) == "--landlock-abi") {
    landlock_abi = std::stoi(argv[4]);
  } else if (argc != 3) {
    std::cerr << "probe: usage: probe read-only DIR [--landlock-abi N]\n";
    return 2;
  }
  Tally tally;
  try_read_only(tally, argv[2], landlock_abi);
  (void)tally.finish();  // prints the tally; here "denied" counts what file permissions refused
  return tally.controls_held() ? 0 : 1;
}

int report_scoped(const std::string& what, int result) {
  const int saved = errno;
  std::cout << what << ": " << (result == 0 ? "worked" : std::strerror(saved)) << '\n';
  if (result == 0) {
    return 0;
  }
  return saved == EPERM || saved == EACCES ? 1 : 2;
}

int try_socket_families() {
  struct Family {
    const char* name;
    int domain;
    int type;
    int protocol;
  };
  // AF_VSOCK 40, AF_ALG 38, AF_KEY 15 (linux/socket.h); NETLINK_* from linux/netlink.h.
  constexpr std::array families{
      Family{"AF_UNIX:SOCK_STREAM", AF_UNIX, SOCK_STREAM, 0},
      Family{"AF_INET:SOCK_STREAM", AF_INET, SOCK_STREAM, 0},
      Family{"AF_INET6:SOCK_STREAM", AF_INET6, SOCK_STREAM, 0},
      Family{"AF_NETLINK:NETLINK_ROUTE", AF_NETLINK, SOCK_RAW, 0},
      Family{"AF_NETLINK:NETLINK_SOCK_DIAG", AF_NETLINK, SOCK_RAW, 4},
      Family{"AF_NETLINK:NETLINK_AUDIT", AF_NETLINK, SOCK_RAW, 9},
      Family{"AF_NETLINK:NETLINK_NETFILTER", AF_NETLINK, SOCK_RAW, 12},
      Family{"AF_NETLINK:NETLINK_KOBJECT_UEVENT", AF_NETLINK, SOCK_RAW, 15},
      Family{"AF_NETLINK:NETLINK_GENERIC", AF_NETLINK, SOCK_RAW, 16},
      Family{"AF_PACKET:SOCK_DGRAM", AF_PACKET, SOCK_DGRAM, 0},
      Family{"AF_PACKET:SOCK_RAW", AF_PACKET, SOCK_RAW, 0},
      Family{"AF_VSOCK:SOCK_STREAM", 40, SOCK_STREAM, 0},
      Family{"AF_ALG:SOCK_SEQPACKET", 38, SOCK_SEQPACKET, 0},
      Family{"AF_KEY:SOCK_RAW", 15, SOCK_RAW, 2},
  };
  for (const auto& family : families) {
    const int fd = socket(family.domain, family.type | SOCK_CLOEXEC, family.protocol);
    const int saved = errno;
    std::cout << family.name << ' ' << (fd >= 0 ? "worked" : std::strerror(saved)) << '\n';
    if (fd >= 0) {
      close(fd);
    }
  }
  return 0;
}

int try_signal(const char* pid_text) {
  const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
  return report_scoped("kill " + std::to_string(pid) + " SIGCONT", kill(pid, SIGCONT));
}

int try_abstract_connect(const std::string& name) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return report_scoped("socket(AF_UNIX)", fd);
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (name.size() + 1 > sizeof address.sun_path) {
    std::cerr << "probe: abstract name too long\n";
    return 2;
  }
  std::memcpy(address.sun_path + 1, name.data(), name.size());  // sun_path[0] = 0: abstract
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  const int result = connect(fd, reinterpret_cast<const sockaddr*>(&address), length);
  const int saved = errno;
  close(fd);
  errno = saved;
  return report_scoped("connect @" + name, result);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "killed" && argc == 3) {
    return call_killed(argv[2]);
  }
  if (mode == "list-killed") {
    return list_killed();
  }
  if (mode == "x32") {
    return call_x32();
  }
  if (mode == "int80") {
    return call_int80();
  }
  if (mode == "status") {
    return print_status();
  }
  if (mode == "denials") {
    return run_denials(argc, argv);
  }
  if (mode == "read-only") {
    return run_read_only(argc, argv);
  }
  if (mode == "socket-families") {
    return try_socket_families();
  }
  if (mode == "signal" && argc == 3) {
    return try_signal(argv[2]);
  }
  if (mode == "abstract-connect" && argc == 3) {
    return try_abstract_connect(argv[2]);
  }
  std::cerr
      << "usage: probe killed NAME | list-killed | x32 | int80 | status | denials "
         "[--outside DIR]... [--read-only DIR]... [--landlock-abi N] [--bind-port P] "
         "[--connect-port P] | read-only DIR [--landlock-abi N] | socket-families | signal PID | "
         "abstract-connect NAME\n";
  return 2;
}
