#include "service_options.h"

namespace zktool {

void add_service_options(CLI::App& app, ServiceOptions& o, const std::string& unit_help) {
  app.add_option("--unit", o.unit, o.unit ? unit_help + " (default " + *o.unit + ")" : unit_help);
  app.add_flag("--user", o.user_bus, "Talk to the calling user's systemd, not the system's");
  app.add_option("--bus", o.bus, "Reach systemd through the D-Bus daemon at this address");
  app.add_option("--systemd-address", o.systemd_address,
                 "Reach systemd through its private socket (unix:path=...)");
  app.add_option("--stop-timeout", o.stop_timeout_s, "Seconds to wait for the unit to stop")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--start-timeout", o.start_timeout_s, "Seconds to wait for the unit to start")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

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
