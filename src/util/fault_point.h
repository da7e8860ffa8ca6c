// Named places where a crash test may kill zk-tool (tests/campaign). Exists
// only for those tests; in normal runs each call costs one string compare.
#pragma once

#include <string_view>

namespace zktool {

// SIGKILLs this process if the environment variable ZKTOOL_FAULT_POINT,
// read once, equals `name` (e.g. "restore.after-stop").
void fault_point(std::string_view name);

}  // namespace zktool
