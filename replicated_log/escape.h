// Shows arbitrary bytes (LevelDB keys, log entries) on one line of text.
#pragma once

#include <string>
#include <string_view>

namespace zktool::replicated_log {

// Printable ASCII stays as is; backslash, double quote, \n, \r and \t are
// backslash-escaped; every other byte becomes \xHH. No quotes are added.
std::string escape_bytes(std::string_view bytes);

}  // namespace zktool::replicated_log
