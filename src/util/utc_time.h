// UTC times to the second in fixed layouts: the manifest's "created"
// ("dddd-dd-ddTdd:dd:ddZ") and the names of scheduled backups
// ("dddd-dd-dd-dd-dd-dd"). In a layout, each run of 'd' is one field, in the
// order year, month, day, hour, minute, second; every other character stands
// for itself. Calendar arithmetic throughout, so any year a layout can hold
// prints back as it was read (system_clock's nanoseconds would overflow
// outside 1678-2262).
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace zktool {

// `time` written into `layout`, each field zero-padded to its run of 'd's.
inline std::string format_utc_time(std::chrono::sys_seconds time, std::string_view layout) {
  using namespace std::chrono;
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss<seconds> clock{time - day};
  const std::array<long long, 6> fields{
      static_cast<int>(date.year()),          static_cast<unsigned>(date.month()),
      static_cast<unsigned>(date.day()),      clock.hours().count(),
      clock.minutes().count(),                clock.seconds().count()};
  std::string out;
  size_t field = 0;
  for (size_t i = 0; i < layout.size();) {
    if (layout[i] != 'd') {
      out += layout[i++];
      continue;
    }
    size_t width = 0;
    while (i < layout.size() && layout[i] == 'd') ++width, ++i;
    std::string digits = std::to_string(field < fields.size() ? fields[field++] : 0);
    if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
    out += digits;
  }
  return out;
}

// The time `text` holds if it is laid out exactly as `layout` and names a
// real date and time of day; nullopt otherwise.
inline std::optional<std::chrono::sys_seconds> parse_utc_time(std::string_view text,
                                                              std::string_view layout) {
  if (text.size() != layout.size()) return std::nullopt;
  std::array<int, 6> fields{};
  size_t field = 0;
  bool in_digits = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (layout[i] != 'd') {
      if (text[i] != layout[i]) return std::nullopt;
      if (in_digits) ++field;
      in_digits = false;
      continue;
    }
    if (text[i] < '0' || text[i] > '9' || field >= fields.size()) return std::nullopt;
    fields[field] = fields[field] * 10 + (text[i] - '0');
    in_digits = true;
  }
  using namespace std::chrono;
  const year_month_day date{year{fields[0]}, month{static_cast<unsigned>(fields[1])},
                            day{static_cast<unsigned>(fields[2])}};
  if (!date.ok() || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) return std::nullopt;
  return sys_days{date} + hours{fields[3]} + minutes{fields[4]} + seconds{fields[5]};
}

// RFC 3339 in UTC to the second, as manifests and `list` write it:
// "2026-11-21T20:30:00Z", and back (only that exact form).
inline constexpr std::string_view kUtcLayout = "dddd-dd-ddTdd:dd:ddZ";
inline std::string format_utc(std::chrono::sys_seconds time) {
  return format_utc_time(time, kUtcLayout);
}
inline std::optional<std::chrono::sys_seconds> parse_utc(std::string_view text) {
  return parse_utc_time(text, kUtcLayout);
}

}  // namespace zktool
