#include "node/crash_leftovers.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "node/service_process.hpp"
#include "sandbox/account_files.hpp"

namespace pgguard::node {

namespace {

using namespace std::chrono_literals;

template <typename Number>
std::optional<Number> to_number(std::string_view text) {
  Number value{};
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

constexpr std::string_view kDeletedSuffix = " (deleted)";

std::string read_link(const std::string& path) {
  char target[PATH_MAX];
  const ssize_t length = ::readlink(path.c_str(), target, sizeof target);
  return length <= 0 ? std::string() : std::string(target, static_cast<std::size_t>(length));
}

// Whether a process runs: a zombie killed orphans leave until init reaps them has detached
// its shared memory already and runs nothing.
bool process_runs(pid_t pid) {
  return process_uid(pid).has_value() && !is_zombie(pid);
}

// The live processes of `uid` running `executable` on this VM: those sharing the caller's
// network namespace (where the ports are) and IPC namespace (where the shared memory is). A
// host running several VMs as namespaces (the local deployment, the tests) shares one pid
// namespace, and another VM's pgpool is not a leftover. Zombies have no exe and are skipped:
// they run nothing and hold no port.
std::vector<pid_t> processes_running(uid_t uid, const std::string& executable) {
  const std::string own_network = read_link("/proc/self/ns/net");
  const std::string own_ipc = read_link("/proc/self/ns/ipc");
  if (own_network.empty() || own_ipc.empty()) {
    throw SystemError("cannot read this process's namespaces in /proc/self/ns", errno);
  }
  const std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) {
    throw SystemError("cannot list /proc", errno);
  }
  std::vector<pid_t> found;
  while (const dirent* entry = ::readdir(proc.get())) {
    const auto pid = to_number<pid_t>(entry->d_name);
    if (!pid || *pid == ::getpid()) {
      continue;
    }
    const std::string dir = std::string("/proc/") + entry->d_name;
    if (process_uid(*pid) == uid && executable_path(read_link(dir + "/exe")) == executable &&
        read_link(dir + "/ns/net") == own_network && read_link(dir + "/ns/ipc") == own_ipc) {
      found.push_back(*pid);
    }
  }
  return found;
}

std::vector<SysvObject> read_table(const std::string& path) {
  try {
    return parse_sysv_table(read_regular_file(path), path);
  } catch (const SystemError& error) {
    // A kernel without System V IPC has no table, and nothing to leave behind.
    if (error.errno_value() == ENOENT) {
      return {};
    }
    throw;
  }
}

std::string megabytes(unsigned long long bytes) {
  return std::to_string((bytes + (1U << 20) - 1) >> 20) + " MB";
}

}  // namespace

std::vector<SysvObject> parse_sysv_table(std::string_view text, const std::string& source) {
  const auto lines = split(text, "\n");
  if (lines.empty()) {
    throw Error(ExitCode::system, source + ": no header line");
  }
  std::map<std::string, std::size_t, std::less<>> columns;
  const auto header = split(lines.front(), " \t");
  for (std::size_t index = 0; index < header.size(); ++index) {
    columns.emplace(header[index], index);
  }
  const bool shared_memory = columns.contains("shmid");
  const char* const id_column = shared_memory ? "shmid" : "semid";
  const char* const size_column = shared_memory ? "size" : "nsems";
  std::vector<std::string_view> required = {id_column, "uid", "cuid", size_column};
  if (shared_memory) {
    required.insert(required.end(), {"cpid", "nattch"});
  }
  for (const auto column : required) {
    if (!columns.contains(column)) {
      throw Error(ExitCode::system, source + ": the header has no column " + std::string(column) +
                                        ": " + std::string(trim(lines.front())));
    }
  }
  std::vector<SysvObject> objects;
  for (std::size_t row = 1; row < lines.size(); ++row) {
    const auto fields = split(lines[row], " \t");
    if (fields.empty()) {
      continue;
    }
    const auto field = [&](std::string_view column) -> const std::string& {
      const auto index = columns.find(column)->second;
      if (index >= fields.size()) {
        throw Error(ExitCode::system, source + ":" + std::to_string(row + 1) + ": no " +
                                          std::string(column) + " field");
      }
      return fields[index];
    };
    const auto number = [&](std::string_view column) {
      const auto value = to_number<unsigned long long>(field(column));
      if (!value) {
        throw Error(ExitCode::system, source + ":" + std::to_string(row + 1) + ": " +
                                          std::string(column) +
                                          " is not a number: " + field(column));
      }
      return *value;
    };
    SysvObject object;
    object.id = static_cast<int>(number(id_column));
    object.owner = static_cast<uid_t>(number("uid"));
    object.creator_uid = static_cast<uid_t>(number("cuid"));
    object.size = number(size_column);
    if (shared_memory) {
      object.creator = static_cast<pid_t>(number("cpid"));
      object.attached = static_cast<unsigned long>(number("nattch"));
    }
    objects.push_back(object);
  }
  return objects;
}

std::vector<SysvObject> stale_shared_memory(const std::vector<SysvObject>& segments, uid_t account,
                                            const std::function<bool(pid_t)>& runs) {
  std::vector<SysvObject> stale;
  for (const auto& segment : segments) {
    if (segment.owner == account && segment.creator_uid == account && segment.attached == 0 &&
        !runs(segment.creator)) {
      stale.push_back(segment);
    }
  }
  return stale;
}

std::vector<SysvObject> stale_semaphores(const std::vector<SysvObject>& sets, uid_t account) {
  std::vector<SysvObject> stale;
  for (const auto& set : sets) {
    if (set.owner == account && set.creator_uid == account) {
      stale.push_back(set);
    }
  }
  return stale;
}

std::string executable_path(std::string_view exe_link) {
  if (exe_link.ends_with(kDeletedSuffix)) {
    exe_link.remove_suffix(kDeletedSuffix.size());
  }
  return std::string(exe_link);
}

std::vector<std::string> clear_crash_leftovers(const LeftoverRequest& request) {
  const auto account =
      sandbox::find_user(read_regular_file("/etc/passwd"), request.user, "/etc/passwd");
  if (!account) {
    throw Error(ExitCode::system, "account " + request.user + " does not exist (run pre-start)");
  }
  const std::unique_ptr<char, decltype(&std::free)> resolved(
      ::realpath(request.executable.c_str(), nullptr), &std::free);
  if (!resolved) {
    throw SystemError("cannot resolve " + request.service + "'s executable " + request.executable,
                      errno);
  }
  std::vector<std::string> report;

  const auto leftovers = processes_running(account->uid, resolved.get());
  if (!leftovers.empty()) {
    for (const pid_t pid : leftovers) {
      ::kill(pid, SIGKILL);
    }
    // Orphans belong to init (or a subreaper), which reaps them; a zombie no longer counts.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!processes_running(account->uid, resolved.get()).empty()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        throw Error(ExitCode::system, "leftover " + request.service + " processes of " +
                                          request.user + " survived SIGKILL for 10 s");
      }
      std::this_thread::sleep_for(100ms);
    }
    std::vector<std::string> pids;
    pids.reserve(leftovers.size());
    for (const pid_t pid : leftovers) {
      pids.push_back(std::to_string(pid));
    }
    report.push_back("killed " + std::to_string(leftovers.size()) + " leftover " + request.service +
                     " processes of a killed " + request.service + " (" + join(pids, " ") + ")");
  }

  const auto segments =
      stale_shared_memory(read_table("/proc/sysvipc/shm"), account->uid, process_runs);
  unsigned long long bytes = 0;
  for (const auto& segment : segments) {
    if (::shmctl(segment.id, IPC_RMID, nullptr) != 0 && errno != EINVAL && errno != EIDRM) {
      throw SystemError("cannot remove the shared memory segment " + std::to_string(segment.id) +
                            " of " + request.user,
                        errno);
    }
    bytes += segment.size;
  }
  if (!segments.empty()) {
    report.push_back("removed " + std::to_string(segments.size()) + " shared memory segments of " +
                     request.user + " nothing used (" + megabytes(bytes) + ")");
  }
  const auto sets = stale_semaphores(read_table("/proc/sysvipc/sem"), account->uid);
  for (const auto& set : sets) {
    if (::semctl(set.id, 0, IPC_RMID) != 0 && errno != EINVAL && errno != EIDRM) {
      throw SystemError(
          "cannot remove the semaphore set " + std::to_string(set.id) + " of " + request.user,
          errno);
    }
  }
  if (!sets.empty()) {
    report.push_back("removed " + std::to_string(sets.size()) + " semaphore sets of " +
                     request.user);
  }
  return report;
}

}  // namespace pgguard::node
