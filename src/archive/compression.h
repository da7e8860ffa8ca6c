// The compressions an archive may use. zstd is the default: fast and
// multi-threaded; gzip is what dcos-zk wrote.
#pragma once

#include <optional>
#include <string_view>

namespace zktool::archive {

enum class Compression { Zstd, Gzip, None };

std::string_view to_string(Compression compression);
// "zstd", "gzip" or "none"; std::nullopt for anything else.
std::optional<Compression> parse_compression(std::string_view name);

}  // namespace zktool::archive
