// Compressed snapshots (ZooKeeper 3.6+, zookeeper.snapshot.compression.method):
// `snapshot.<zxid>.gz` is a gzip stream; `snapshot.<zxid>.snappy` is the
// snappy-java stream format (a 16-byte header, then blocks each prefixed by
// their big-endian compressed length). The snapshot's Adler32 seals cover the
// uncompressed bytes, so callers decompress first and parse the result.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"
#include "snapshot/bytes.h"

namespace zktool::snapshot {

enum class SnapshotCompression { None, Gzip, Snappy };

// Chosen by the file name's last extension, as ZooKeeper does.
SnapshotCompression compression_for_name(std::string_view file_name);

// The bytes a compressed snapshot starts with (gzip's, snappy-java's); empty
// for an uncompressed one.
std::string_view stream_magic(SnapshotCompression method);

// Decompresses `input`, refusing output larger than `max_output` bytes (a
// decompression bomb guard). `name` is used in error messages.
Result<std::shared_ptr<const Bytes>> decompress(SnapshotCompression method, std::string_view input,
                                                const std::string& name, uint64_t max_output);

// Compresses `input` in the given format (used by the snapshot writer).
Result<std::string> compress(SnapshotCompression method, std::string_view input);

}  // namespace zktool::snapshot
