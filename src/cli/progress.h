// A progress line for long work when a person is watching: on a terminal,
// "<label> 45% (120 of 266 MiB)" rewritten in place at most ten times a
// second, ended with a newline when the work is done. Nothing elsewhere.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace zktool {

// A callback for (done, total) bytes that draws on stderr when stderr is a
// terminal; an empty function otherwise, so callers can skip the work.
std::function<void(uint64_t done, uint64_t total)> terminal_progress(std::string label);

}  // namespace zktool
