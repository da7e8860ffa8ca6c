#include "util/fault_point.h"

#include <csignal>
#include <cstdlib>
#include <string>

namespace zktool {

void fault_point(std::string_view name) {
  static const std::string armed = [] {
    const char* value = std::getenv("ZKTOOL_FAULT_POINT");
    return std::string(value ? value : "");
  }();
  if (!armed.empty() && armed == name) std::raise(SIGKILL);
}

}  // namespace zktool
