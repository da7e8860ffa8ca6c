// Durations as operators write them on the command line and in the config
// file: a positive whole number and a unit, e.g. 500ms, 90s, 5m, 36h, 7d, 2w.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace zktool {

// A bare number is seconds. Anything else (zero, negative, unknown unit,
// overflow) is nullopt.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

}  // namespace zktool
