#include "service/bus.h"

#include <cerrno>
#include <chrono>
#include <cstring>

namespace zktool::service {

namespace {

Error bus_error(std::string message) {
  return make_error(ErrorKind::ServiceControl, std::move(message));
}

// Owns an sd_bus_error for the length of one call.
struct ScopedError {
  sd_bus_error error{};  // SD_BUS_ERROR_NULL, which is a C compound literal
  ~ScopedError() { sd_bus_error_free(&error); }
};

}  // namespace

std::string errno_text(int r) {
  const char* name = strerrorname_np(-r);
  return std::string(std::strerror(-r)) + " (" + (name != nullptr ? name : "?") + ")";
}

uint64_t usec_until(Deadline deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::microseconds>(deadline - Deadline::clock::now());
  return left.count() > 0 ? static_cast<uint64_t>(left.count()) : 1;
}

std::string describe_bus_error(const sd_bus_error& error, int r) {
  if (sd_bus_error_is_set(&error)) {
    return std::string(error.name) + ": " + (error.message != nullptr ? error.message : "");
  }
  return errno_text(r);
}

Result<std::unique_ptr<Bus>> Bus::open(const BusTarget& target) {
  sd_bus* bus = nullptr;
  int r = 0;
  switch (target.kind()) {
    case BusTarget::Kind::System:
      r = sd_bus_open_system(&bus);
      break;
    case BusTarget::Kind::User:
      r = sd_bus_open_user(&bus);
      break;
    case BusTarget::Kind::Direct:
    case BusTarget::Kind::Broker:
      r = sd_bus_new(&bus);
      if (r >= 0) r = sd_bus_set_address(bus, target.address().c_str());
      // A broker wants the Hello handshake; systemd's private socket has no
      // bus driver to answer it.
      if (r >= 0) r = sd_bus_set_bus_client(bus, target.kind() == BusTarget::Kind::Broker);
      if (r >= 0) r = sd_bus_start(bus);
      break;
  }
  if (r < 0) {
    sd_bus_unref(bus);
    return bus_error("cannot connect to " + target.describe() + ": " + errno_text(r));
  }
  return std::unique_ptr<Bus>(
      new Bus(bus, target.describe(), target.kind() == BusTarget::Kind::Direct));
}

Bus::~Bus() {
  // Not sd_bus_flush_close_unref: flushing could block on a peer that stopped
  // reading, and every call made here has already had its reply.
  sd_bus_close_unref(bus_);
}

Result<MessagePtr> Bus::new_manager_call(const char* member) const {
  sd_bus_message* message = nullptr;
  const int r = sd_bus_message_new_method_call(bus_, &message, kSystemdService, kManagerPath,
                                               kManagerInterface, member);
  if (r < 0) return bus_error(std::string(member) + ": " + errno_text(r));
  return MessagePtr(message);
}

Status Bus::wait_ready(Deadline deadline, const char* member) {
  for (;;) {
    int r = sd_bus_is_ready(bus_);
    if (r > 0) return {};
    if (r == 0) r = sd_bus_process(bus_, nullptr);
    if (r > 0) continue;
    if (r == 0 && Deadline::clock::now() >= deadline) {
      return bus_error(std::string(member) +
                       ": timed out connecting (no answer to the D-Bus handshake)");
    }
    if (r == 0) r = sd_bus_wait(bus_, usec_until(deadline));
    if (r < 0 && r != -EINTR) return bus_error(std::string(member) + ": " + errno_text(r));
  }
}

Result<MessagePtr> Bus::call(Deadline deadline, sd_bus_message* call) {
  const char* member = sd_bus_message_get_member(call);
  auto ready = wait_ready(deadline, member);
  if (!ready.ok()) return ready.error();
  ScopedError error;
  sd_bus_message* reply = nullptr;
  const int r = sd_bus_call(bus_, call, usec_until(deadline), &error.error, &reply);
  if (r < 0) {
    return bus_error(std::string(member) + ": " + describe_bus_error(error.error, r));
  }
  return MessagePtr(reply);
}

Result<MessagePtr> Bus::get(Deadline deadline, const std::string& path, const char* interface,
                            const char* name) {
  sd_bus_message* raw = nullptr;
  int r = sd_bus_message_new_method_call(bus_, &raw, kSystemdService, path.c_str(),
                                         "org.freedesktop.DBus.Properties", "Get");
  MessagePtr get(raw);
  if (r >= 0) r = sd_bus_message_append(get.get(), "ss", interface, name);
  if (r < 0) return bus_error(std::string("Get ") + name + ": " + errno_text(r));
  auto reply = call(deadline, get.get());
  if (!reply.ok()) return bus_error(reply.error().message + " (property " + name + ")");
  return reply;
}

namespace {

// Reads the variant of a Get reply; for strings the value points into `reply`.
template <typename T>
Result<T> read_variant(sd_bus_message* reply, char type, const std::string& path,
                       const char* name) {
  const char signature[2] = {type, '\0'};
  T value{};
  int r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_VARIANT, signature);
  if (r >= 0) r = sd_bus_message_read_basic(reply, type, &value);
  if (r < 0) {
    return bus_error(std::string("property ") + name + " of " + path + " is not of type " +
                     signature + ": " + errno_text(r));
  }
  return value;
}

}  // namespace

Result<std::string> Bus::get_string(Deadline deadline, const std::string& path,
                                    const char* interface, const char* name) {
  auto reply = get(deadline, path, interface, name);
  if (!reply.ok()) return reply.error();
  auto value = read_variant<const char*>(reply->get(), SD_BUS_TYPE_STRING, path, name);
  if (!value.ok()) return value.error();
  return std::string(*value);
}

Result<uint32_t> Bus::get_u32(Deadline deadline, const std::string& path, const char* interface,
                              const char* name) {
  auto reply = get(deadline, path, interface, name);
  if (!reply.ok()) return reply.error();
  return read_variant<uint32_t>(reply->get(), SD_BUS_TYPE_UINT32, path, name);
}

Result<int32_t> Bus::get_i32(Deadline deadline, const std::string& path, const char* interface,
                             const char* name) {
  auto reply = get(deadline, path, interface, name);
  if (!reply.ok()) return reply.error();
  return read_variant<int32_t>(reply->get(), SD_BUS_TYPE_INT32, path, name);
}

}  // namespace zktool::service
