#include "ops/service_options.h"

namespace zktool {

ServiceTarget resolve_service(const ServiceOptions& o) {
  ServiceTarget target;
  target.unit = o.unit;
  if (o.systemd_address) {
    target.bus = service::BusTarget::direct(*o.systemd_address);
  } else if (o.bus) {
    target.bus = service::BusTarget::broker(*o.bus);
  } else if (o.user_bus) {
    target.bus = service::BusTarget::user();
  }
  target.stop_timeout = std::chrono::seconds(o.stop_timeout_s);
  target.start_timeout = std::chrono::seconds(o.start_timeout_s);
  return target;
}

}  // namespace zktool
