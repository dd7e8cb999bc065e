#pragma once

#include <sys/types.h>

#include <string>

#include "common/unique_fd.hpp"

// The VIP broker's listening unix stream socket (RAII): created so that its path exists only
// once it listens, and removed again, if it is still this one, when the object goes away.
namespace pgguard::net {

struct ListenerOptions {
  std::string path;
  mode_t mode = 0660;  // the mode the socket file must have (it comes from the umask)
  gid_t group = 0;     // the group it must have (the client's, so the client can connect)
};

class UnixListener {
 public:
  // Binds PATH.new, listens, checks its mode and group, then renames it to PATH: a client that
  // finds PATH finds a listening socket, and a stale socket of a previous run is replaced in
  // one step. Refuses (Error(bad_input), nothing changed) when PATH or PATH.new exists and is
  // no socket, or when the socket's mode or group is not the wanted one (removing PATH.new);
  // Error(system) when another process listens on PATH already, SystemError when the kernel
  // refuses a step. The socket is non-blocking (accept after poll).
  static UnixListener create(const ListenerOptions& options);

  UnixListener(UnixListener&& other) noexcept;
  UnixListener& operator=(UnixListener&&) = delete;
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;
  // Unlinks PATH if it is still the socket this object created (same device and inode).
  ~UnixListener();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  UnixListener(std::string path, UniqueFd fd, dev_t device, ino_t inode)
      : path_(std::move(path)), fd_(std::move(fd)), device_(device), inode_(inode) {}

  std::string path_;
  UniqueFd fd_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace pgguard::net
