// The LevelDB keys of a Mesos replica (apache/mesos src/log/leveldb.cpp).
// Key "0000000000" holds the metadata; position p is stored under p + 1 as
// ten zero-padded digits, or, once p + 1 exceeds 9999999999, as "A" and
// twenty digits (MESOS-10186), so byte order is position order.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace zktool::replicated_log {

inline constexpr std::string_view kMetadataKey = "0000000000";
// The key stores position + 1, so the largest position is one short of UINT64_MAX.
inline constexpr uint64_t kMaxPosition = std::numeric_limits<uint64_t>::max() - 1;

// Precondition: position <= kMaxPosition.
std::string position_key(uint64_t position);

// What a key names. Only the canonical spelling of each key parses: anything
// else (another width, a stray byte, "A" before a small number) is nullopt.
struct ParsedKey {
  bool is_metadata = false;
  uint64_t position = 0;  // meaningful when !is_metadata
};
std::optional<ParsedKey> parse_key(std::string_view key);

}  // namespace zktool::replicated_log
