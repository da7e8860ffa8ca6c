#include "archive/compression.h"

namespace zktool::archive {

std::string_view to_string(Compression compression) {
  switch (compression) {
    case Compression::Zstd:
      return "zstd";
    case Compression::Gzip:
      return "gzip";
    case Compression::None:
      return "none";
  }
  return "unknown";
}

std::optional<Compression> parse_compression(std::string_view name) {
  for (Compression c : {Compression::Zstd, Compression::Gzip, Compression::None}) {
    if (name == to_string(c)) return c;
  }
  return std::nullopt;
}

}  // namespace zktool::archive
