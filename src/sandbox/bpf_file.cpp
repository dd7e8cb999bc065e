#include "sandbox/bpf_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/sha256.hpp"

namespace pgguard::sandbox {

namespace {

constexpr std::string_view kMagic = "PGGUARD-SECCOMP-BPF 1";

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw Error(ExitCode::bad_input, path + ": refusing the seccomp BPF file: " + why +
                                       " (recompile it with 'pgguard-launch compile')");
}

std::string program_digest(const std::string& policy_digest, std::string_view program_bytes) {
  Sha256 hash;
  hash.update(policy_digest);
  hash.update("\n");
  hash.update(program_bytes);
  const auto digest = hash.finish();
  return to_hex(digest);
}

std::string_view program_bytes(const BpfProgram& program) {
  return {reinterpret_cast<const char*>(program.instructions.data()),
          program.instructions.size() * sizeof(sock_filter)};
}

}  // namespace

std::string bpf_file_contents(const SeccompPolicy& policy, const BpfProgram& program,
                              const std::string& profile_file) {
  const std::string policy_digest = policy.digest();
  const auto bytes = program_bytes(program);
  std::string text(kMagic);
  text += "\n";
  text += "arch: " + native_arch_name() + "\n";
  text += "libseccomp: " + libseccomp_version() + "\n";
  text += "policy-sha256: " + policy_digest + "\n";
  text += "program-sha256: " + program_digest(policy_digest, bytes) + "\n";
  text += "instructions: " + std::to_string(program.instructions.size()) + "\n";
  text += "profile: " + profile_file + "\n";
  text += "\n";
  text.append(bytes);
  return text;
}

void write_bpf_file(const std::string& path, const SeccompPolicy& policy, const BpfProgram& program,
                    const std::string& profile_file) {
  const std::string contents = bpf_file_contents(policy, program, profile_file);
  // Written beside the target and renamed, so a launcher never reads half a file.
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  UniqueFd file(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!file) {
    throw SystemError("compile: create " + temporary, errno);
  }
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t result =
        ::write(file.get(), contents.data() + written, contents.size() - written);
    if (result < 0) {
      const int saved = errno;
      ::unlink(temporary.c_str());
      throw SystemError("compile: write " + temporary, saved);
    }
    written += static_cast<std::size_t>(result);
  }
  if (::fsync(file.get()) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    throw SystemError("compile: install " + path, saved);
  }
}

BpfProgram parse_bpf_file(std::string_view contents, const SeccompPolicy& policy,
                          const std::string& path) {
  const auto header_end = contents.find("\n\n");
  if (header_end == std::string_view::npos) {
    refuse(path, "no header");
  }
  const auto header = contents.substr(0, header_end);
  const auto body = contents.substr(header_end + 2);
  const auto lines = split(header, "\n");
  if (lines.empty() || lines[0] != kMagic) {
    refuse(path, "not a pgguard seccomp BPF file of format 1");
  }
  std::map<std::string, std::string> fields;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto colon = lines[i].find(": ");
    if (colon == std::string::npos) {
      refuse(path, "malformed header line '" + lines[i] + "'");
    }
    fields[lines[i].substr(0, colon)] = lines[i].substr(colon + 2);
  }
  const auto field = [&](const std::string& name) {
    const auto found = fields.find(name);
    if (found == fields.end()) {
      refuse(path, "header field '" + name + "' is missing");
    }
    return found->second;
  };
  if (field("arch") != native_arch_name()) {
    refuse(path, "compiled for " + field("arch") + ", this is " + native_arch_name());
  }
  if (field("libseccomp") != libseccomp_version()) {
    refuse(path,
           "compiled with libseccomp " + field("libseccomp") + ", this is " + libseccomp_version());
  }
  const std::string policy_digest = policy.digest();
  if (field("policy-sha256") != policy_digest) {
    refuse(path, "stale: it was compiled from a different seccomp policy (policy-sha256 " +
                     field("policy-sha256") + ", the profile's is " + policy_digest + ")");
  }
  std::size_t count = 0;
  const std::string count_text = field("instructions");
  const auto [end, error] =
      std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (error != std::errc() || end != count_text.data() + count_text.size() || count == 0 ||
      count > BPF_MAXINSNS || body.size() != count * sizeof(sock_filter)) {
    refuse(path, "tampered: the program size does not match its header");
  }
  if (field("program-sha256") != program_digest(policy_digest, body)) {
    refuse(path, "tampered: the program does not match its digest");
  }
  BpfProgram program;
  program.instructions.resize(count);
  std::memcpy(program.instructions.data(), body.data(), body.size());
  return program;
}

BpfProgram read_bpf_file(const std::string& path, const SeccompPolicy& policy) {
  // Type checked on the descriptor before any read: a FIFO here would block the launch forever.
  const RegularFile opened = open_regular_file(path, O_NOFOLLOW);
  if (opened.error != 0) {
    throw Error(ExitCode::bad_input,
                path + ": cannot open the seccomp BPF file: " + errno_text(opened.error));
  }
  if (!opened.ok()) {
    refuse(path, opened.problem());
  }
  const int file = opened.fd.get();
  const struct stat& status = opened.status;
  if (status.st_uid != 0 && status.st_uid != ::geteuid()) {
    refuse(path, "owned by uid " + std::to_string(status.st_uid) + ", not by root");
  }
  if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    refuse(path, "writable by group or others");
  }
  constexpr std::size_t kMaxSize = std::size_t{64} * 1024 + BPF_MAXINSNS * sizeof(sock_filter);
  if (status.st_size < 0 || static_cast<std::size_t>(status.st_size) > kMaxSize) {
    refuse(path, "too large");
  }
  std::string contents(static_cast<std::size_t>(status.st_size), '\0');
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t result = ::read(file, contents.data() + done, contents.size() - done);
    if (result < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SystemError(path + ": read", errno);
    }
    if (result == 0) {
      break;
    }
    done += static_cast<std::size_t>(result);
  }
  contents.resize(done);
  return parse_bpf_file(contents, policy, path);
}

}  // namespace pgguard::sandbox
