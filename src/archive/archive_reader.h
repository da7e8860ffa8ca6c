// Reads zk-tool archives of any compression, and the gzip tars DC/OS's
// dcos-zk writes (rooted at ./zookeeper, no manifest), without trusting them.
//
// extract_verified() writes only regular files and directories, and only
// under the roots zookeeper/ and replicated_log/ of a staging directory. It
// refuses links, devices, FIFOs and sockets, absolute paths, "." and ".."
// components, duplicate entries, a manifest that is not the first entry and
// archives beyond the given limits; with a manifest it also refuses entries
// the manifest does not list, listed files that are missing, and sizes or
// SHA-256 digests (computed while extracting) that differ from the
// manifest's. Each refusal is one ErrorKind::Corrupt line naming the entry.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/compression.h"
#include "archive/encryption.h"
#include "archive/manifest.h"
#include "util/result.h"

namespace zktool::archive {

enum class EntryType {
  File,
  Directory,
  Symlink,
  HardLink,
  CharDevice,
  BlockDevice,
  Fifo,
  Socket,
  Other
};
std::string_view to_string(EntryType type);

struct ArchiveEntry {
  std::string path;  // as stored in the archive, not normalized
  uint64_t size = 0;
  EntryType type = EntryType::Other;
};

// Guards against decompression bombs; set them from the space the staging
// file system has free.
struct Limits {
  uint64_t max_total_bytes = uint64_t{64} << 30;  // the sum of all file sizes
  uint64_t max_entries = 100'000;
};

struct Extracted {
  // std::nullopt: the archive has no manifest (one written by dcos-zk), so
  // only the safety rules were checked and the caller must check the
  // ZooKeeper files themselves.
  std::optional<Manifest> manifest;
  // Every file written, in archive order, with the digest computed while
  // writing it.
  std::vector<FileEntry> files;
};

class ArchiveReader {
 public:
  // Reads only the first entry: the manifest when the archive has one.
  // Each later call reads the archive file again from the start. An
  // encrypted archive needs `key` (ErrorKind::WrongKey without it or with
  // another); the reader keeps a copy for those later calls.
  static Result<ArchiveReader> open(const std::filesystem::path& archive,
                                    const std::optional<ArchiveKey>& key = std::nullopt);

  const std::filesystem::path& path() const { return path_; }
  Compression compression() const { return compression_; }
  const std::optional<Manifest>& manifest() const { return manifest_; }

  // Every entry, as stored, without extracting or judging any.
  Result<std::vector<ArchiveEntry>> list(const Limits& limits = {}) const;

  // Extracts into `staging_dir`, an existing directory the caller created
  // (ideally empty; nothing in it is ever overwritten). Files are fsynced.
  // On failure the staging directory holds a partial extraction, which the
  // caller removes; nothing is ever written outside it.
  Result<Extracted> extract_verified(const std::filesystem::path& staging_dir,
                                     const Limits& limits = {}) const;

  // Every check extract_verified() makes, hashes included, writing nothing:
  // proof that the archive holds the bytes its manifest lists.
  Result<Extracted> check(const Limits& limits = {}) const;

 private:
  ArchiveReader(std::filesystem::path path, std::optional<ArchiveKey> key,
                Compression compression, std::optional<Manifest> manifest)
      : path_(std::move(path)),
        key_(std::move(key)),
        compression_(compression),
        manifest_(std::move(manifest)) {}

  std::filesystem::path path_;
  std::optional<ArchiveKey> key_;
  Compression compression_;
  std::optional<Manifest> manifest_;
};

}  // namespace zktool::archive
