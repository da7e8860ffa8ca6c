// systemd unit files for the test ensemble's nodes, with every value written
// so that systemd hands it to the process exactly as given (systemd.syntax(7):
// quoting and C escapes; systemd.unit(5): `%` specifiers; systemd.service(5):
// `$` variable expansion in command lines).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "support/ensemble.h"

namespace zktool::testsupport {

// An ExecStart= value running `argv` (argv[0] an absolute path): each
// argument double-quoted, with `\`, `"` and control characters C-escaped, `%`
// written `%%` and `$` written `$$`.
std::string exec_command_line(const std::vector<std::string>& argv);

// A path for settings that take the rest of the line (WorkingDirectory=,
// StandardOutput=append:), `%` written `%%`. Usage error for a path systemd
// cannot take there: relative, or holding a control character or a leading or
// trailing blank.
Result<std::string> unit_path_value(const std::filesystem::path& path);

// The unit that runs node `index` of `layout` (Type=simple, output appended to
// the node's log file), with `extra_service_lines` (each ending in a newline)
// last in [Service]: there a setting overrides the one before, and a list
// (ExecStart=...) is emptied by an empty assignment first.
Result<std::string> zk_node_unit(const EnsembleLayout& layout, size_t index,
                                 std::string_view extra_service_lines);

}  // namespace zktool::testsupport
