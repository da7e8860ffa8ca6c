// Internal to the service library: an owned sd-bus connection to a systemd
// manager and calls on it bounded by an absolute deadline. sd-bus timeouts
// are relative, and a timeout of 0 means its 25 s default, so every call
// here converts the deadline itself (never to 0).
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <memory>
#include <string>

#include "util/result.h"
#include "service/service_manager.h"

namespace zktool::service {

struct MessageUnref {
  void operator()(sd_bus_message* message) const { sd_bus_message_unref(message); }
};
struct SlotUnref {
  void operator()(sd_bus_slot* slot) const { sd_bus_slot_unref(slot); }
};
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotUnref>;

inline constexpr const char* kSystemdService = "org.freedesktop.systemd1";
inline constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
inline constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
inline constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
inline constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";

// Microseconds left until `deadline`, at least 1 (0 would mean "default").
uint64_t usec_until(Deadline deadline);

// strerror text and name of a negative errno as sd-bus returns it.
std::string errno_text(int r);

// "<error name>: <message>" of a failed call, or the errno text when sd-bus
// failed locally (no error name).
std::string describe_bus_error(const sd_bus_error& error, int r);

class Bus {
 public:
  // Starts connecting; sd-bus finishes the handshake during the first call.
  static Result<std::unique_ptr<Bus>> open(const BusTarget& target);
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  sd_bus* get() const { return bus_; }
  const std::string& description() const { return description_; }
  // Signals carry systemd's sender name only through a message bus; on a
  // direct connection they have none, so matches must not name one.
  const char* signal_sender() const { return is_direct_ ? nullptr : kSystemdService; }

  // Finishes connecting (authentication, and Hello on a broker) by the
  // deadline: sd_bus_call() would wait for that with its own 90 s limit.
  // `member` names the call that needs it, for the message.
  Status wait_ready(Deadline deadline, const char* member);

  // A method call to the manager object, for the caller to append arguments to.
  Result<MessagePtr> new_manager_call(const char* member) const;
  // Sends `call` and waits for its reply. Errors read "<member>: <name>: <message>".
  Result<MessagePtr> call(Deadline deadline, sd_bus_message* call);

  // One property of the object at `path`.
  Result<std::string> get_string(Deadline deadline, const std::string& path, const char* interface,
                                 const char* name);
  Result<uint32_t> get_u32(Deadline deadline, const std::string& path, const char* interface,
                           const char* name);
  Result<int32_t> get_i32(Deadline deadline, const std::string& path, const char* interface,
                          const char* name);

 private:
  Bus(sd_bus* bus, std::string description, bool is_direct)
      : bus_(bus), description_(std::move(description)), is_direct_(is_direct) {}
  Result<MessagePtr> get(Deadline deadline, const std::string& path, const char* interface,
                         const char* name);

  sd_bus* bus_;
  std::string description_;
  bool is_direct_;
};

}  // namespace zktool::service
