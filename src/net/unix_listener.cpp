#include "net/unix_listener.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace pgguard::net {

namespace {

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    throw Error(ExitCode::bad_input, "socket path '" + path + "' is too long");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

std::string octal(mode_t mode) {
  char text[8];
  (void)std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Whether `path` is a socket something listens on. Refuses a path that exists and is no socket.
bool someone_listens(const std::string& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    if (errno == ENOENT) {
      return false;
    }
    throw SystemError("lstat " + path, errno);
  }
  if (!S_ISSOCK(status.st_mode)) {
    throw Error(ExitCode::bad_input, path + " exists and is " + file_type_name(status.st_mode) +
                                         ", not a socket: refusing to replace it");
  }
  const UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) {
    throw SystemError("socket(AF_UNIX)", errno);
  }
  const sockaddr_un address = address_of(path);
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

}  // namespace

UnixListener UnixListener::create(const ListenerOptions& options) {
  const std::string& path = options.path;
  if (someone_listens(path)) {
    throw Error(ExitCode::system, "another process already listens on " + path +
                                      " (a second broker?): not replacing it");
  }
  const std::string fresh = path + ".new";
  if (someone_listens(fresh)) {
    throw Error(ExitCode::system, "another process is starting on " + fresh);
  }
  if (::unlink(fresh.c_str()) != 0 && errno != ENOENT) {
    throw SystemError("unlink the stale " + fresh, errno);
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    throw SystemError("socket(AF_UNIX, SOCK_STREAM)", errno);
  }
  const sockaddr_un address = address_of(fresh);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw SystemError("bind " + fresh, errno);
  }
  // From here on PATH.new exists: remove it on every way out but the rename.
  class RemoveUnlessKept {
   public:
    explicit RemoveUnlessKept(const std::string& name) : name_(name) {}
    RemoveUnlessKept(const RemoveUnlessKept&) = delete;
    RemoveUnlessKept& operator=(const RemoveUnlessKept&) = delete;
    ~RemoveUnlessKept() {
      if (!kept_) {
        (void)::unlink(name_.c_str());
      }
    }
    void keep() { kept_ = true; }

   private:
    const std::string& name_;
    bool kept_ = false;
  } remove_fresh(fresh);

  if (::listen(fd.get(), 16) != 0) {
    throw SystemError("listen on " + fresh, errno);
  }
  struct stat status {};
  if (::lstat(fresh.c_str(), &status) != 0) {
    throw SystemError("lstat " + fresh, errno);
  }
  if ((status.st_mode & 07777) != options.mode) {
    throw Error(ExitCode::bad_input, fresh + " was created with mode " + octal(status.st_mode) +
                                         ", not " + octal(options.mode) +
                                         ": run the broker with umask " +
                                         octal(static_cast<mode_t>(0777 & ~options.mode)) +
                                         " (the vip-helper profile's umask)");
  }
  if (status.st_gid != options.group) {
    throw Error(ExitCode::bad_input,
                fresh + " has group id " + std::to_string(status.st_gid) + ", not the client's " +
                    std::to_string(options.group) +
                    ", so the client could not connect: run the broker with the client's "
                    "primary group (the vip-helper profile's group)");
  }
  if (::rename(fresh.c_str(), path.c_str()) != 0) {
    throw SystemError("rename " + fresh + " to " + path, errno);
  }
  remove_fresh.keep();
  return UnixListener(path, std::move(fd), status.st_dev, status.st_ino);
}

UnixListener::UnixListener(UnixListener&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::move(other.fd_)),
      device_(other.device_),
      inode_(std::exchange(other.inode_, 0)) {}

UnixListener::~UnixListener() {
  if (inode_ == 0) {
    return;
  }
  struct stat status {};
  if (::lstat(path_.c_str(), &status) == 0 && status.st_dev == device_ && status.st_ino == inode_) {
    (void)::unlink(path_.c_str());
  }
}

}  // namespace pgguard::net
