#include "sandbox/capabilities.hpp"

#include <linux/securebits.h>
#include <sys/prctl.h>

#include <cctype>
#include <cerrno>

namespace pgguard::sandbox {

namespace {

std::string upper(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return result;
}

[[noreturn]] void fail(const std::string& what) {
  throw SystemError(what, errno);
}

}  // namespace

int last_capability() {
  // libcap's constructor has already probed the running kernel's bounding set (PR_CAPBSET_READ)
  // for the number of capabilities: asking it costs no system call, where reading
  // /proc/sys/kernel/cap_last_cap cost an open and a read at every step that needs it.
  const cap_value_t bits = cap_max_bits();
  if (bits > 0 && bits <= 64) {
    return bits - 1;
  }
  // The probe found nothing usable: libcap's compile-time knowledge is the best remaining guess.
  return CAP_LAST_CAP;
}

std::optional<Capability> find_capability(std::string_view name) {
  std::string canonical = upper(name);
  if (canonical.rfind("CAP_", 0) != 0) {
    canonical = "CAP_" + canonical;
  }
  cap_value_t value = 0;
  if (cap_from_name(canonical.c_str(), &value) != 0 || value < 0 || value > last_capability()) {
    return std::nullopt;
  }
  return Capability{value, capability_name(value)};
}

std::string capability_name(int value) {
  char* text = cap_to_name(value);
  if (text == nullptr) {
    return "CAP_" + std::to_string(value);
  }
  std::string name = upper(text);
  cap_free(text);
  return name;
}

std::uint64_t capability_mask(const std::vector<Sourced<Capability>>& capabilities) {
  std::uint64_t mask = 0;
  for (const auto& capability : capabilities) {
    mask |= std::uint64_t{1} << capability.value.value;
  }
  return mask;
}

std::string capability_names(std::uint64_t mask) {
  std::string names;
  for (int value = 0; value < 64; ++value) {
    if ((mask & (std::uint64_t{1} << value)) != 0) {
      names += (names.empty() ? "" : ",") + capability_name(value);
    }
  }
  return names.empty() ? std::string("(none)") : names;
}

void drop_bounding_set(const Profile& profile) {
  const std::uint64_t keep = capability_mask(profile.bounding);
  const int last = last_capability();
  for (int value = 0; value <= last; ++value) {
    if ((keep & (std::uint64_t{1} << value)) != 0) {
      continue;
    }
    if (cap_drop_bound(value) != 0) {
      fail("capabilities.bounding: drop " + capability_name(value) + " from the bounding set");
    }
  }
}

void set_capabilities(std::uint64_t permitted_and_effective, std::uint64_t inheritable,
                      const std::string& step) {
  CapState state(cap_init());
  if (state.get() == nullptr) {
    fail(step + ": cap_init");
  }
  const int last = last_capability();
  for (int value = 0; value <= last; ++value) {
    const cap_value_t list[] = {value};
    if ((permitted_and_effective & (std::uint64_t{1} << value)) != 0) {
      if (cap_set_flag(state.get(), CAP_PERMITTED, 1, list, CAP_SET) != 0 ||
          cap_set_flag(state.get(), CAP_EFFECTIVE, 1, list, CAP_SET) != 0) {
        fail(step + ": cap_set_flag " + capability_name(value));
      }
    }
    if ((inheritable & (std::uint64_t{1} << value)) != 0) {
      if (cap_set_flag(state.get(), CAP_INHERITABLE, 1, list, CAP_SET) != 0) {
        fail(step + ": cap_set_flag " + capability_name(value));
      }
    }
  }
  if (cap_set_proc(state.get()) != 0) {
    fail(step + ": cap_set_proc");
  }
}

void raise_ambient(const Profile& profile) {
  for (const auto& capability : profile.ambient) {
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability.value.value, 0, 0) != 0) {
      const int saved = errno;
      throw Error(ExitCode::system, capability.where.to_string() + ": " + capability.key +
                                        ": raise ambient " + capability.value.name + ": " +
                                        errno_text(saved));
    }
  }
}

unsigned long locked_securebits() {
  return SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
         SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
         SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
}

void lock_securebits() {
  if (::prctl(PR_SET_SECUREBITS, locked_securebits(), 0, 0, 0) != 0) {
    fail("securebits: prctl(PR_SET_SECUREBITS)");
  }
  const int read_back = ::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
  if (read_back < 0) {
    fail("securebits: prctl(PR_GET_SECUREBITS)");
  }
  if (static_cast<unsigned long>(read_back) != locked_securebits()) {
    throw Error(ExitCode::system, "securebits: read back " + std::to_string(read_back) +
                                      ", expected " + std::to_string(locked_securebits()));
  }
}

bool is_forbidden_capability(int value) {
  switch (value) {
    case CAP_SYS_RESOURCE:
    case CAP_SETUID:
    case CAP_SETGID:
    case CAP_SETPCAP:
    case CAP_SETFCAP:
    case CAP_SYS_ADMIN:
    case CAP_SYS_MODULE:
    case CAP_SYS_PTRACE:
    case CAP_SYS_RAWIO:
    case CAP_SYS_BOOT:
    case CAP_MAC_ADMIN:
    case CAP_MAC_OVERRIDE:
    case CAP_BPF:
    case CAP_PERFMON:
    case CAP_CHECKPOINT_RESTORE:
    case CAP_DAC_OVERRIDE:
    case CAP_DAC_READ_SEARCH:
    case CAP_FOWNER:
    case CAP_CHOWN:
    case CAP_LINUX_IMMUTABLE:
    case CAP_AUDIT_CONTROL:
      return true;
    default:
      return false;
  }
}

}  // namespace pgguard::sandbox
