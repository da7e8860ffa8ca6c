#include "replicated_log/keys.h"

#include <charconv>
#include <cstdio>

namespace zktool::replicated_log {

namespace {

// Above this, Mesos switches to the "A" + 20 digits spelling.
constexpr uint64_t kLargestShortKey = 9'999'999'999;

std::optional<uint64_t> parse_digits(std::string_view digits) {
  uint64_t value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string position_key(uint64_t position) {
  const uint64_t stored = position + 1;
  char buffer[32];
  const char* format = stored <= kLargestShortKey ? "%010llu" : "A%020llu";
  int n = std::snprintf(buffer, sizeof buffer, format, static_cast<unsigned long long>(stored));
  return std::string(buffer, static_cast<size_t>(n));
}

std::optional<ParsedKey> parse_key(std::string_view key) {
  std::optional<uint64_t> stored;
  if (key.size() == 10 && all_digits(key)) {
    stored = parse_digits(key);
    if (stored && *stored == 0) return ParsedKey{.is_metadata = true};
  } else if (key.size() == 21 && key.front() == 'A' && all_digits(key.substr(1))) {
    stored = parse_digits(key.substr(1));
    if (stored && *stored <= kLargestShortKey) return std::nullopt;
  }
  if (!stored) return std::nullopt;
  return ParsedKey{.is_metadata = false, .position = *stored - 1};
}

}  // namespace zktool::replicated_log
