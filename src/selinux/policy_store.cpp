#include "selinux/policy_store.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "common/error.hpp"

namespace pgguard::selinux {
namespace {

// Small owners for libsemanage's records, so no error path leaks one.
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* record) const {
    if (record != nullptr) {
      Free(record);
    }
  }
};
// Module keys need the handle to be destroyed.
class ModuleKey {
 public:
  ModuleKey(semanage_handle_t* handle, const std::string& name) : handle_(handle) {
    if (semanage_module_key_create(handle_, &key_) < 0) {
      key_ = nullptr;
      return;
    }
    valid_ = semanage_module_key_set_name(handle_, key_, name.c_str()) >= 0;
  }
  ModuleKey(const ModuleKey&) = delete;
  ModuleKey& operator=(const ModuleKey&) = delete;
  ~ModuleKey() {
    if (key_ != nullptr) {
      semanage_module_key_destroy(handle_, key_);
      std::free(key_);
    }
  }
  bool valid() const { return key_ != nullptr && valid_; }
  semanage_module_key_t* get() const { return key_; }

 private:
  semanage_handle_t* handle_;
  semanage_module_key_t* key_ = nullptr;
  bool valid_ = false;
};
using PortKey =
    std::unique_ptr<semanage_port_key_t, Deleter<semanage_port_key_t, semanage_port_key_free>>;
using PortRecord = std::unique_ptr<semanage_port_t, Deleter<semanage_port_t, semanage_port_free>>;
using ContextRecord =
    std::unique_ptr<semanage_context_t, Deleter<semanage_context_t, semanage_context_free>>;

struct MappedModule {
  void* data = nullptr;
  std::size_t size = 0;
  semanage_module_info_t* info = nullptr;
  semanage_handle_t* handle = nullptr;

  ~MappedModule() {
    if (data != nullptr) {
      ::munmap(data, size);
    }
    if (info != nullptr) {
      semanage_module_info_destroy(handle, info);
      std::free(info);
    }
  }
};

}  // namespace

void PolicyStore::collect_message(void* self, semanage_handle_t* handle, const char* format, ...) {
  auto* store = static_cast<PolicyStore*>(self);
  char text[1024];
  va_list arguments;
  va_start(arguments, format);
  // A message longer than the buffer is cut; the start names what failed. clang-tidy 14's
  // analyzer does not see va_start above initialise the list.
  // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
  (void)std::vsnprintf(text, sizeof text, format, arguments);
  va_end(arguments);
  const char* channel = semanage_msg_get_channel(handle);
  if (!store->messages_.empty()) {
    store->messages_ += "\n";
  }
  store->messages_ += "  ";
  if (channel != nullptr) {
    store->messages_ += std::string(channel) + ": ";
  }
  store->messages_ += text;
}

PolicyStore::PolicyStore(const std::optional<std::string>& root) {
  if (root) {
    // libsemanage keeps the alternative root process-wide; this program opens one store.
    if (semanage_set_root(root->c_str()) < 0) {
      throw Error(ExitCode::system, "cannot use policy store root " + *root);
    }
  }
  handle_ = semanage_handle_create();
  if (handle_ == nullptr) {
    throw Error(ExitCode::system,
                "libsemanage: cannot create a handle (no SELinux configuration?)");
  }
  semanage_msg_set_callback(handle_, &PolicyStore::collect_message, this);
  if (root) {
    semanage_set_reload(handle_, 0);
    semanage_set_check_contexts(handle_, 0);
  }
  semanage_set_create_store(handle_, 0);
  const int managed = semanage_is_managed(handle_);
  if (managed != 1) {
    fail(std::string("no SELinux policy store") + (root ? " under " + *root : std::string()) +
         " (is selinux-policy-default installed?)");
  }
  if (semanage_connect(handle_) < 0) {
    fail("cannot connect to the SELinux policy store");
  }
  connected_ = true;
}

PolicyStore::~PolicyStore() {
  if (connected_) {
    semanage_disconnect(handle_);
  }
  semanage_handle_destroy(handle_);
}

void PolicyStore::fail(const std::string& what) {
  std::string message = what;
  if (!messages_.empty()) {
    message += ":\n" + messages_;
  }
  messages_.clear();
  throw Error(ExitCode::system, message);
}

std::optional<InstalledModule> PolicyStore::installed_module(const std::string& name) {
  ModuleKey key(handle_, name);
  if (!key.valid()) {
    fail("libsemanage: cannot make a key for module " + name);
  }
  // Absent modules make libsemanage log an error; that is the normal first-install case.
  semanage_module_info_t* info_probe = nullptr;
  if (semanage_module_get_module_info(handle_, key.get(), &info_probe) < 0) {
    messages_.clear();
    return std::nullopt;
  }
  // Read the module at the priority it is installed at (the highest, as semodule -E does).
  std::uint16_t priority = 0;
  const int priority_status = semanage_module_info_get_priority(handle_, info_probe, &priority);
  semanage_module_info_destroy(handle_, info_probe);
  std::free(info_probe);
  if (priority_status < 0 || semanage_module_key_set_priority(handle_, key.get(), priority) < 0) {
    fail("cannot find the priority of the installed module " + name);
  }

  MappedModule mapped;
  mapped.handle = handle_;
  if (semanage_module_extract(handle_, key.get(), 0, &mapped.data, &mapped.size, &mapped.info) <
      0) {
    fail("cannot read the installed module " + name + " from the policy store");
  }
  int enabled = 0;
  if (semanage_module_get_enabled(handle_, key.get(), &enabled) < 0) {
    fail("cannot tell whether module " + name + " is enabled");
  }
  InstalledModule installed;
  installed.package.assign(static_cast<const char*>(mapped.data), mapped.size);
  installed.enabled = enabled == 1;
  return installed;
}

std::vector<PortLabel> PolicyStore::local_ports() {
  semanage_port_t** records = nullptr;
  unsigned int count = 0;
  if (semanage_port_list_local(handle_, &records, &count) < 0) {
    fail("cannot list the local port records of the policy store");
  }
  std::vector<PortRecord> owned;
  owned.reserve(count);
  for (unsigned int i = 0; i < count; ++i) {
    owned.emplace_back(records[i]);
  }
  std::free(records);

  std::vector<PortLabel> labels;
  for (const PortRecord& record : owned) {
    const int low = semanage_port_get_low(record.get());
    const int high = semanage_port_get_high(record.get());
    const int protocol = semanage_port_get_proto(record.get());
    if (low != high || (protocol != SEMANAGE_PROTO_TCP && protocol != SEMANAGE_PROTO_UDP)) {
      continue;
    }
    const semanage_context_t* context = semanage_port_get_con(record.get());
    labels.push_back(PortLabel{protocol == SEMANAGE_PROTO_TCP ? Protocol::tcp : Protocol::udp, low,
                               context != nullptr ? semanage_context_get_type(context) : ""});
  }
  return labels;
}

void PolicyStore::apply(const std::string& name, const std::optional<std::string>& package,
                        bool enable, const std::vector<PortLabel>& ports) {
  if (semanage_begin_transaction(handle_) < 0) {
    fail("cannot begin a policy store transaction");
  }
  // Anything thrown before semanage_commit abandons the transaction: the disconnect in the
  // destructor drops the sandbox, the store keeps what it had.
  if (package) {
    // libsemanage takes a non-const buffer; it does not write to it.
    std::string copy = *package;
    if (semanage_module_install(handle_, copy.data(), copy.size(), name.c_str(), "pp") < 0) {
      fail("the policy store refused module " + name);
    }
  }
  if (enable) {
    ModuleKey key(handle_, name);
    if (!key.valid() || semanage_module_set_enabled(handle_, key.get(), 1) < 0) {
      fail("cannot enable module " + name);
    }
  }
  for (const PortLabel& label : ports) {
    const int protocol = label.protocol == Protocol::tcp ? SEMANAGE_PROTO_TCP : SEMANAGE_PROTO_UDP;
    semanage_port_key_t* raw_key = nullptr;
    semanage_port_t* raw_record = nullptr;
    semanage_context_t* raw_context = nullptr;
    if (semanage_port_key_create(handle_, label.port, label.port, protocol, &raw_key) < 0) {
      fail("libsemanage: cannot create a port key");
    }
    PortKey key(raw_key);
    if (semanage_port_create(handle_, &raw_record) < 0) {
      fail("libsemanage: cannot create a port record");
    }
    PortRecord record(raw_record);
    if (semanage_context_create(handle_, &raw_context) < 0) {
      fail("libsemanage: cannot create a context record");
    }
    ContextRecord context(raw_context);
    semanage_port_set_proto(record.get(), protocol);
    semanage_port_set_range(record.get(), label.port, label.port);
    if (semanage_context_set_user(handle_, context.get(), "system_u") < 0 ||
        semanage_context_set_role(handle_, context.get(), "object_r") < 0 ||
        semanage_context_set_type(handle_, context.get(), label.type.c_str()) < 0 ||
        semanage_context_set_mls(handle_, context.get(), "s0") < 0 ||
        semanage_port_set_con(handle_, record.get(), context.get()) < 0 ||
        semanage_port_modify_local(handle_, key.get(), record.get()) < 0) {
      fail("cannot label port " + to_string(label));
    }
  }
  if (semanage_commit(handle_) < 0) {
    fail(
        "the policy store refused the change (nothing was changed; the installed module stays in "
        "force)");
  }
}

}  // namespace pgguard::selinux
