#include "snapshot/snapshot_file.h"

#include "util/unique_fd.h"
#include "snapshot/checksum.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace zktool::snapshot {

namespace {

constexpr int32_t kSnapshotMagic = 0x5A4B534E;  // "ZKSN"
constexpr int32_t kFormatVersion = 2;

Error corrupt(const std::string& name, const std::string& what) {
  return make_error(ErrorKind::Corrupt, name + ": " + what);
}

// Checks the Adler32 seal at the reader's position against the checksum of
// every byte before it. `checked_until` and `running` carry the incremental
// checksum from the previous seal.
Status check_seal(JuteReader& in, std::string_view all, size_t& checked_until, uint32_t& running,
                  const std::string& name, const char* which) {
  size_t seal_at = all.size() - in.remaining();
  running = adler32_update(running, all.substr(checked_until, seal_at - checked_until));
  checked_until = seal_at;
  uint64_t offset = in.offset();
  auto stored = static_cast<uint64_t>(in.read_long());
  std::string_view slash = in.read_string();
  if (in.failed()) return corrupt(name, std::string(which) + " seal: " + in.error());
  if (slash != "/") {
    return corrupt(name, std::string(which) + " seal at offset " + std::to_string(offset) +
                             " is not followed by \"/\"");
  }
  if (stored != running) {
    return corrupt(name, std::string(which) + " seal at offset " + std::to_string(offset) +
                             ": Adler32 mismatch (stored " + std::to_string(stored) +
                             ", computed " + std::to_string(running) + ")");
  }
  return Ok{};
}

}  // namespace

std::optional<Zxid> zxid_from_file_name(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() + 1 || name.substr(0, prefix.size()) != prefix ||
      name[prefix.size()] != '.') {
    return std::nullopt;
  }
  std::string_view hex = name.substr(prefix.size() + 1);
  hex = hex.substr(0, hex.find('.'));
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
  if (ec != std::errc() || end != hex.data() + hex.size() || hex.empty()) return std::nullopt;
  return static_cast<Zxid>(value);
}

bool looks_complete(const std::filesystem::path& file) {
  // The jute string "/" (length 1, then '/') that ends the node list, and so
  // an uncompressed snapshot: its seal and digest come before.
  static constexpr std::string_view kEndOfNodes("\0\0\0\1/", 5);
  const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return false;
  struct stat st {};
  const bool stat_ok = ::fstat(fd.get(), &st) == 0;
  auto bytes_at = [&](uint64_t offset, size_t length) {
    std::string bytes(length, '\0');
    const ssize_t n = ::pread(fd.get(), bytes.data(), length, static_cast<off_t>(offset));
    return n == static_cast<ssize_t>(length) ? bytes : std::string();
  };
  const auto size = stat_ok ? static_cast<uint64_t>(st.st_size) : 0;
  const std::string_view magic = stream_magic(compression_for_name(file.filename().string()));
  bool complete = false;
  if (magic.empty()) {
    complete = size >= 10 && bytes_at(size - kEndOfNodes.size(), kEndOfNodes.size()) == kEndOfNodes;
  } else {
    complete = size >= magic.size() && bytes_at(0, magic.size()) == magic;
  }
  return complete;
}

uint64_t decompression_limit(uint64_t compressed_size, const SnapshotReadOptions& options) {
  const uint64_t expansion = options.max_expansion;
  const uint64_t proportional =
      compressed_size > UINT64_MAX / std::max<uint64_t>(expansion, 1) ? UINT64_MAX
                                                                      : compressed_size * expansion;
  return std::max(kMinDecompressionLimit, proportional);
}

Result<SnapshotInfo> read_snapshot(const std::filesystem::path& file,
                                   const SnapshotNodeVisitor& on_node,
                                   const SnapshotReadOptions& options) {
  std::string name = file.filename().string();
  auto mapped = Bytes::map_file(file);
  if (!mapped) return mapped.error();
  SnapshotCompression method = compression_for_name(name);
  std::shared_ptr<const Bytes> bytes = std::move(mapped.value());
  if (method != SnapshotCompression::None) {
    auto plain = decompress(method, bytes->view(), file.string(),
                            decompression_limit(bytes->view().size(), options));
    if (!plain) return plain.error();
    bytes = std::move(plain.value());
  }
  return parse_snapshot(std::move(bytes), file.string(), on_node, options);
}

Result<SnapshotInfo> parse_snapshot(std::shared_ptr<const Bytes> bytes, const std::string& name,
                                    const SnapshotNodeVisitor& on_node,
                                    const SnapshotReadOptions& options) {
  SnapshotInfo info;
  info.name = name;
  auto zxid = zxid_from_file_name(std::filesystem::path(name).filename().string(), "snapshot");
  if (!zxid) return corrupt(name, "not a snapshot file name (snapshot.<hex zxid>)");
  info.zxid = *zxid;
  std::string_view all = bytes->view();
  info.uncompressed_size = all.size();
  info.bytes = bytes;

  JuteReader in(all, 0, options.max_length);
  int32_t magic = in.read_int();
  int32_t version = in.read_int();
  info.dbid = in.read_long();
  if (in.failed()) return corrupt(name, "header: " + in.error());
  if (magic != kSnapshotMagic) return corrupt(name, "bad magic (not a ZooKeeper snapshot)");
  if (version != kFormatVersion) {
    return corrupt(name, "unsupported snapshot version " + std::to_string(version));
  }

  int32_t session_count = in.read_count(12);
  info.sessions.reserve(static_cast<size_t>(session_count));
  for (int32_t i = 0; i < session_count && !in.failed(); ++i) {
    int64_t id = in.read_long();
    int32_t timeout = in.read_int();
    info.sessions.emplace_back(id, timeout);
  }
  if (in.failed()) return corrupt(name, "sessions: " + in.error());

  int32_t acl_count = in.read_count(8 + 4);
  for (int32_t i = 0; i < acl_count && !in.failed(); ++i) {
    int64_t index = in.read_long();
    info.acls[index] = read_acl_list(in);
  }
  if (in.failed()) return corrupt(name, "ACL cache: " + in.error());

  SnapshotNode node;
  for (;;) {
    node.path = in.read_string();
    if (in.failed()) return corrupt(name, "node path: " + in.error());
    if (node.path == "/") break;
    node.data = in.read_buffer();
    node.acl_index = in.read_long();
    Stat& st = node.stat;
    st.czxid = in.read_long();
    st.mzxid = in.read_long();
    st.ctime = in.read_long();
    st.mtime = in.read_long();
    st.version = in.read_int();
    st.cversion = in.read_int();
    st.aversion = in.read_int();
    st.ephemeral_owner = in.read_long();
    st.pzxid = in.read_long();
    if (in.failed()) {
      return corrupt(name, "node " + std::string(node.path) + ": " + in.error());
    }
    if (node.acl_index != -1 && !info.acls.contains(node.acl_index)) {
      return corrupt(name, "node " + std::string(node.path) + " refers to ACL " +
                               std::to_string(node.acl_index) + ", which the ACL cache lacks");
    }
    ++info.node_count;
    on_node(node);
  }

  size_t checked_until = 0;
  uint32_t running = kAdler32Initial;
  if (Status s = check_seal(in, all, checked_until, running, name, "first"); !s) return s.error();
  info.seals = 1;
  if (in.at_end()) return info;  // written before 3.6, or with digests off

  ZxidDigest digest;
  digest.zxid = in.read_long();
  digest.version = in.read_int();
  if (digest.version < 2) {
    // Digest version 1 stored the value as a hex string.
    std::string_view hex = in.read_string();
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (!in.failed() && (ec != std::errc() || end != hex.data() + hex.size())) {
      return corrupt(name, "digest is not hexadecimal");
    }
    digest.digest = static_cast<int64_t>(value);
  } else {
    digest.digest = in.read_long();
  }
  if (in.failed()) return corrupt(name, "digest: " + in.error());
  if (Status s = check_seal(in, all, checked_until, running, name, "digest"); !s) return s.error();
  info.seals = 2;
  // ZooKeeper writes zxid 0 when it had no digest yet: nothing to compare.
  if (digest.zxid > 0) info.digest = digest;
  if (in.at_end()) return info;

  Zxid last = in.read_long();
  if (in.failed()) return corrupt(name, "last processed zxid: " + in.error());
  if (Status s = check_seal(in, all, checked_until, running, name, "third"); !s) return s.error();
  info.seals = 3;
  info.last_processed_zxid = last;
  if (!in.at_end()) {
    return corrupt(name, std::to_string(in.remaining()) + " unexpected bytes after offset " +
                             std::to_string(in.offset()));
  }
  return info;
}

Result<std::string> serialize_snapshot(const SnapshotContents& contents,
                                       SnapshotCompression compression) {
  std::string out;
  JuteWriter w(out);
  w.write_int(kSnapshotMagic);
  w.write_int(kFormatVersion);
  w.write_long(-1);  // dbid: ZooKeeper writes -1 and never reads it back
  w.write_int(static_cast<int32_t>(contents.sessions.size()));
  for (const auto& [id, timeout] : contents.sessions) {
    w.write_long(id);
    w.write_int(timeout);
  }
  w.write_int(static_cast<int32_t>(contents.acls.size()));
  for (const auto& [index, acls] : contents.acls) {
    w.write_long(index);
    write_acl_list(w, acls);
  }
  for (const SnapshotNode& node : contents.nodes) {
    w.write_string(node.path);
    w.write_buffer(node.data);
    w.write_long(node.acl_index);
    const Stat& st = node.stat;
    w.write_long(st.czxid);
    w.write_long(st.mzxid);
    w.write_long(st.ctime);
    w.write_long(st.mtime);
    w.write_int(st.version);
    w.write_int(st.cversion);
    w.write_int(st.aversion);
    w.write_long(st.ephemeral_owner);
    w.write_long(st.pzxid);
  }
  w.write_string("/");  // end of nodes

  // Each seal is the Adler32 of every byte before it, earlier seals included.
  uint32_t running = kAdler32Initial;
  size_t sealed_until = 0;
  auto seal = [&] {
    running = adler32_update(running, std::string_view(out).substr(sealed_until));
    sealed_until = out.size();
    w.write_long(running);
    w.write_string("/");
  };
  seal();
  if (contents.digest) {
    w.write_long(contents.digest->zxid);
    w.write_int(contents.digest->version);
    w.write_long(contents.digest->digest);
    seal();
  }
  return compress(compression, out);
}

namespace {

Status write_all_and_sync(int fd, std::string_view bytes, const std::string& name) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorKind::Io, name + ": write: " + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0) return make_error(ErrorKind::Io, name + ": fsync: " + std::strerror(errno));
  return Ok{};
}

Status sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorKind::Io, dir.string() + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return make_error(ErrorKind::Io, dir.string() + ": fsync: " + std::strerror(err));
  return Ok{};
}

}  // namespace

Result<std::filesystem::path> write_snapshot_file(const SnapshotContents& contents, Zxid zxid,
                                                  const std::filesystem::path& dir,
                                                  SnapshotCompression compression) {
  auto bytes = serialize_snapshot(contents, compression);
  if (!bytes) return bytes.error();
  std::string name = "snapshot." + zxid_hex(zxid).substr(2);
  if (compression == SnapshotCompression::Gzip) name += ".gz";
  if (compression == SnapshotCompression::Snappy) name += ".snappy";
  // ZooKeeper would try to load any "snapshot.*" name, so the temporary must not look like one.
  std::filesystem::path tmp = dir / (".zk-tool-" + name + ".tmp");
  std::filesystem::path final_path = dir / name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(ErrorKind::Io, tmp.string() + ": " + std::strerror(errno));
  Status written = write_all_and_sync(fd, *bytes, tmp.string());
  ::close(fd);
  if (written && ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    written = make_error(ErrorKind::Io, final_path.string() + ": rename: " + std::strerror(errno));
  }
  if (!written) {
    ::unlink(tmp.c_str());
    return written.error();
  }
  if (Status s = sync_directory(dir); !s) return s.error();
  return final_path;
}

}  // namespace zktool::snapshot
