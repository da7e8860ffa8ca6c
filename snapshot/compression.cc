#include "snapshot/compression.h"

#include <snappy.h>
#include <zlib.h>

#include <cstring>

namespace zktool::snapshot {

namespace {

// snappy-java's stream header: a magic, then int version 1 and int
// minimum-compatible version 1, both big-endian.
constexpr char kSnappyMagic[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
constexpr size_t kSnappyHeaderSize = 16;
constexpr size_t kSnappyBlockSize = 32 * 1024;

uint32_t load_u32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

void store_u32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

Error corrupt(const std::string& name, const std::string& what) {
  return make_error(ErrorKind::Corrupt, name + ": " + what);
}

Error too_large(const std::string& name, uint64_t max_output, const std::string& where) {
  return corrupt(name, "decompresses to more than " + std::to_string(max_output) + " bytes" +
                           where + ", refused as a decompression bomb (--max-expansion raises "
                           "the limit)");
}

Result<std::shared_ptr<const Bytes>> gunzip(std::string_view input, const std::string& name,
                                            uint64_t max_output) {
  if (input.size() > UINT32_MAX) return corrupt(name, "compressed snapshot over 4 GiB");
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return corrupt(name, "cannot start gzip decoder");
  std::string out;
  out.resize(std::min<uint64_t>(max_output, std::max<size_t>(input.size() * 4, 1 << 16)));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  size_t produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (produced == out.size()) {
      if (out.size() >= max_output) {
        inflateEnd(&zs);
        return too_large(name, max_output, "");
      }
      out.resize(std::min<uint64_t>(max_output, out.size() * 2));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, 1u << 30));
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = static_cast<size_t>(reinterpret_cast<char*>(zs.next_out) - out.data());
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      return corrupt(name, "gzip stream is truncated at compressed offset " +
                               std::to_string(input.size()));
    }
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
      uint64_t at = input.size() - zs.avail_in;
      inflateEnd(&zs);
      return corrupt(name, "gzip: " + msg + " at compressed offset " + std::to_string(at));
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return Bytes::own(std::move(out));
}

Result<std::shared_ptr<const Bytes>> unsnappy(std::string_view input, const std::string& name,
                                              uint64_t max_output) {
  if (input.size() < kSnappyHeaderSize || std::memcmp(input.data(), kSnappyMagic, 8) != 0) {
    return corrupt(name, "not a snappy-java stream (bad header)");
  }
  std::string out;
  size_t pos = kSnappyHeaderSize;
  while (pos < input.size()) {
    // A concatenated stream repeats the header; skip it.
    if (input.size() - pos >= kSnappyHeaderSize &&
        std::memcmp(input.data() + pos, kSnappyMagic, 8) == 0) {
      pos += kSnappyHeaderSize;
      continue;
    }
    if (input.size() - pos < 4) return corrupt(name, "truncated snappy block length at " +
                                                         std::to_string(pos));
    uint32_t len = load_u32(input.data() + pos);
    pos += 4;
    if (len > input.size() - pos) {
      return corrupt(name, "snappy block of " + std::to_string(len) + " bytes at offset " +
                               std::to_string(pos - 4) + " runs past the end");
    }
    // A block's length prefix only claims a size: the block is decoded once
    // without output to prove it, so that memory follows real bytes.
    size_t block_size = 0;
    if (!snappy::GetUncompressedLength(input.data() + pos, len, &block_size) ||
        !snappy::IsValidCompressedBuffer(input.data() + pos, len)) {
      return corrupt(name, "bad snappy block at offset " + std::to_string(pos - 4));
    }
    if (out.size() + block_size > max_output) {
      return too_large(name, max_output,
                       " (at the snappy block at offset " + std::to_string(pos - 4) + ")");
    }
    size_t old = out.size();
    out.resize(old + block_size);
    if (!snappy::RawUncompress(input.data() + pos, len, out.data() + old)) {
      return corrupt(name, "bad snappy block at offset " + std::to_string(pos - 4));
    }
    pos += len;
  }
  return Bytes::own(std::move(out));
}

}  // namespace

SnapshotCompression compression_for_name(std::string_view file_name) {
  auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos) return SnapshotCompression::None;
  std::string_view ext = file_name.substr(dot + 1);
  if (ext == "gz") return SnapshotCompression::Gzip;
  if (ext == "snappy") return SnapshotCompression::Snappy;
  return SnapshotCompression::None;
}

std::string_view stream_magic(SnapshotCompression method) {
  switch (method) {
    case SnapshotCompression::Gzip: return std::string_view("\x1f\x8b", 2);
    case SnapshotCompression::Snappy: return std::string_view(kSnappyMagic, sizeof kSnappyMagic);
    case SnapshotCompression::None: break;
  }
  return {};
}

Result<std::shared_ptr<const Bytes>> decompress(SnapshotCompression method, std::string_view input,
                                                const std::string& name, uint64_t max_output) {
  switch (method) {
    case SnapshotCompression::Gzip: return gunzip(input, name, max_output);
    case SnapshotCompression::Snappy: return unsnappy(input, name, max_output);
    case SnapshotCompression::None: break;
  }
  return Bytes::own(std::string(input));
}

Result<std::string> compress(SnapshotCompression method, std::string_view input) {
  std::string out;
  switch (method) {
    case SnapshotCompression::None:
      return std::string(input);
    case SnapshotCompression::Snappy: {
      out.append(kSnappyMagic, 8);
      store_u32(out, 1);
      store_u32(out, 1);
      std::string block;
      for (size_t pos = 0; pos < input.size(); pos += kSnappyBlockSize) {
        size_t n = std::min(kSnappyBlockSize, input.size() - pos);
        snappy::Compress(input.data() + pos, n, &block);
        store_u32(out, static_cast<uint32_t>(block.size()));
        out += block;
      }
      return out;
    }
    case SnapshotCompression::Gzip: {
      z_stream zs{};
      if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK) {
        return make_error(ErrorKind::Internal, "cannot start gzip encoder");
      }
      out.resize(deflateBound(&zs, static_cast<uLong>(input.size())));
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
      zs.avail_in = static_cast<uInt>(input.size());
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      int rc = deflate(&zs, Z_FINISH);
      out.resize(zs.total_out);
      deflateEnd(&zs);
      if (rc != Z_STREAM_END) return make_error(ErrorKind::Internal, "gzip encoder failed");
      return out;
    }
  }
  return out;
}

}  // namespace zktool::snapshot
