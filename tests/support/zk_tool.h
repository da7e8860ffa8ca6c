// The zk-tool binary under test, run through run_captured(). Its path is
// ZKTOOL_BINARY, which every test target that includes this defines.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "process.h"

namespace zktool::testsupport {

// zk-tool with `args`, for a caller to add environment or a kill to.
inline RunSpec zk_tool_spec(std::vector<std::string> args) {
  args.insert(args.begin(), ZKTOOL_BINARY);
  return RunSpec{std::move(args)};
}

inline CapturedRun zk_tool(std::vector<std::string> args) {
  return run_captured(zk_tool_spec(std::move(args)));
}

}  // namespace zktool::testsupport
