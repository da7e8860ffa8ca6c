// The two checksums ZooKeeper's files use, computed with ISA-L's vectorised
// kernels (several GB/s; zlib's are 2-5x slower and would dominate parsing).
//   Adler32: the snapshot seals and each log record (java.util.zip.Adler32).
//   CRC32:   the per-node tree digest (java.util.zip.CRC32, IEEE reflected).
#pragma once

#include <cstdint>
#include <string_view>

namespace zktool::snapshot {

inline constexpr uint32_t kAdler32Initial = 1;
inline constexpr uint32_t kCrc32Initial = 0;

uint32_t adler32_update(uint32_t running, std::string_view bytes);
uint32_t crc32_update(uint32_t running, std::string_view bytes);

}  // namespace zktool::snapshot
