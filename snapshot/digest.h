// ZooKeeper's tree digest (DigestCalculator version 2 with AdHash): every node
// contributes CRC32(path, data, 60 bytes of stat), the tree's digest is their
// 64-bit sum, and nodes under /zookeeper/ contribute nothing.
//
// ZooKeeper hashes the path with String.getBytes(), i.e. the JVM's default
// charset: UTF-8 under a UTF-8 locale, US-ASCII (each non-ASCII character
// becomes '?') under the C/POSIX locale that systemd services usually get.
// Both are tracked so either kind of server's recorded digests can be checked.
#pragma once

#include <cstdint>
#include <string_view>

#include "snapshot/records.h"

namespace zktool::snapshot {

inline constexpr int32_t kDigestVersion = 2;

// The JVM default charset a server hashed paths with.
enum class DigestCharset { Utf8, Ascii };

struct TreeDigest {
  uint64_t utf8 = 0;
  uint64_t ascii = 0;

  void add(const TreeDigest& d) { utf8 += d.utf8; ascii += d.ascii; }
  void remove(const TreeDigest& d) { utf8 -= d.utf8; ascii -= d.ascii; }
  int64_t value(DigestCharset charset) const {
    return static_cast<int64_t>(charset == DigestCharset::Utf8 ? utf8 : ascii);
  }
  bool operator==(const TreeDigest&) const = default;
};

// One node's contribution; `path` as stored ("" or "/" for the root).
TreeDigest node_digest(std::string_view path, const Blob& data, const Stat& stat);

}  // namespace zktool::snapshot
