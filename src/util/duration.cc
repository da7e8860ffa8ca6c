#include "util/duration.h"

#include <charconv>
#include <limits>
#include <string_view>

namespace zktool {

using std::chrono::milliseconds;

std::optional<milliseconds> parse_duration(const std::string& text) {
  int64_t count = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc{} || count <= 0) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  int64_t unit_ms = 0;
  if (unit == "ms") {
    unit_ms = 1;
  } else if (unit.empty() || unit == "s") {
    unit_ms = 1000;
  } else if (unit == "m") {
    unit_ms = 60'000;
  } else if (unit == "h") {
    unit_ms = 3'600'000;
  } else if (unit == "d") {
    unit_ms = 86'400'000;
  } else if (unit == "w") {
    unit_ms = 604'800'000;
  } else {
    return std::nullopt;
  }
  if (count > std::numeric_limits<int64_t>::max() / unit_ms) return std::nullopt;
  return milliseconds(count * unit_ms);
}


}  // namespace zktool
