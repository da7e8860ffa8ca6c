#include "snapshot/digest.h"

#include "snapshot/checksum.h"

#include <string>

namespace zktool::snapshot {

namespace {


void put_be(unsigned char*& p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<unsigned char>(v >> (8 * i));
}

// The path as a JVM with a US-ASCII default charset encodes it: each UTF-8
// encoded character outside ASCII becomes one '?'.
std::string ascii_path(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    out.push_back('?');
    i += len;
  }
  return out;
}

bool has_non_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

}  // namespace

TreeDigest node_digest(std::string_view path, const Blob& data, const Stat& stat) {
  if (path.starts_with("/zookeeper/")) return {};
  if (path == "/") path = "";

  unsigned char fields[60];
  unsigned char* p = fields;
  put_be(p, static_cast<uint64_t>(stat.czxid), 8);
  put_be(p, static_cast<uint64_t>(stat.mzxid), 8);
  put_be(p, static_cast<uint64_t>(stat.pzxid), 8);
  put_be(p, static_cast<uint64_t>(stat.ctime), 8);
  put_be(p, static_cast<uint64_t>(stat.mtime), 8);
  put_be(p, static_cast<uint32_t>(stat.version), 4);
  put_be(p, static_cast<uint32_t>(stat.cversion), 4);
  put_be(p, static_cast<uint32_t>(stat.aversion), 4);
  put_be(p, static_cast<uint64_t>(stat.ephemeral_owner), 8);
  std::string_view stat_bytes(reinterpret_cast<const char*>(fields), sizeof(fields));

  auto finish = [&](std::string_view path_bytes) {
    uint32_t crc = crc32_update(kCrc32Initial, path_bytes);
    if (data) crc = crc32_update(crc, *data);
    return static_cast<uint64_t>(crc32_update(crc, stat_bytes));
  };
  TreeDigest d;
  d.utf8 = finish(path);
  d.ascii = has_non_ascii(path) ? finish(ascii_path(path)) : d.utf8;
  return d;
}

}  // namespace zktool::snapshot
