// Writes a zk-tool archive (FORMAT.md): a pax tar, compressed with zstd,
// gzip or nothing, whose first entry is the manifest.
//
// The manifest comes first yet lists every file's SHA-256, so each payload
// file is read twice, one block at a time: add_file() hashes it (or takes the
// digest the caller computed while copying it out of the live directory), and
// commit() writes the manifest, then streams the file into the archive while
// hashing it again, refusing the archive if the two digests differ. A file
// is read on the calling thread while a worker hashes (and archives) the
// blocks already read; memory stays at a few blocks; nothing is staged on
// disk.
//
// Everything is written to "<final>.part", which the writer holds locked
// (flock) so two runs cannot share it. commit() fsyncs it, lets the caller
// prove it, renames it to the final name (never replacing a file there) and
// fsyncs the directory. A failed commit or proof, or destroying the writer
// before commit, removes the .part: the final name only ever holds a
// complete archive that passed its proof.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archive/block_pipeline.h"
#include "archive/compression.h"
#include "archive/encryption.h"
#include "archive/manifest.h"
#include "util/unique_fd.h"
#include "util/result.h"

namespace zktool::archive {

struct WriteOptions {
  Compression compression = Compression::Zstd;
  // The codec's level (zstd: negative to 22, gzip: 0 to 9); unset: its
  // default (zstd 3, gzip 6).
  std::optional<int> level{};
  // zstd worker threads; 0 means one per CPU. Unused by gzip and none.
  unsigned threads = 0;
  // Encrypt the archive stream with this key (encryption.h); unset: plain.
  std::optional<ArchiveKey> key{};
  // Called after each block commit() writes, with the payload bytes written
  // so far and in all (e.g. a progress display); unset: nothing is called.
  std::function<void(uint64_t written, uint64_t total)> progress{};
};

struct AddOptions {
  // Archive only the file's first `length` bytes, e.g. a transaction log
  // without its preallocated zeros. Unset: the whole file.
  std::optional<uint64_t> length{};
  // The digest of those bytes if the caller computed it while copying the
  // file; add_file() then does not read it, and commit() still checks it.
  std::optional<std::string> sha256{};
};

class ArchiveWriter {
 public:
  // Creates and locks "<final_path>.part" (replacing one a crashed run left).
  // Refuses with ErrorKind::Unsafe if final_path exists, ErrorKind::Locked
  // if another writer holds the .part.
  static Result<ArchiveWriter> open(const std::filesystem::path& final_path,
                                    const WriteOptions& options = {});

  ArchiveWriter(ArchiveWriter&&) = default;
  ArchiveWriter& operator=(ArchiveWriter&&) = delete;
  ~ArchiveWriter();

  // Records `source` (a regular file) as `archive_path`, a path that passes
  // unsafe_path_reason(), hashing it unless options.sha256 is given. A
  // failure records nothing and leaves the writer usable.
  Status add_file(const std::string& archive_path, const std::filesystem::path& source,
                  const AddOptions& options = {});

  // Reads the archive written so far, before it is published. `written` names
  // the .part through the writer's own descriptor (/proc/self/fd/N), so what
  // is read is the file written whatever happens to the directory meanwhile.
  using Proof = std::function<Status(const std::filesystem::path& written, const Manifest&)>;

  // Writes the archive, runs `prove` on it (if given) and publishes it under
  // the final name only if that succeeds. `manifest` gives everything but the
  // files (its files must be empty): the writer lists the added files in the
  // order they were added. Returns the manifest as written. Whatever the
  // outcome, the writer is finished afterwards.
  Result<Manifest> commit(Manifest manifest, const Proof& prove = {});

 private:
  struct Pending {
    FileEntry entry;
    std::filesystem::path source;
  };

  ArchiveWriter(std::filesystem::path final_path, WriteOptions options, UniqueFd dir_fd,
                UniqueFd part_fd);
  Status write_archive(const Manifest& manifest);
  // Renames the fsynced .part to the final name and fsyncs the directory.
  Status publish();
  // Whether `name`, in the archive's directory, is the file being written.
  bool names_written_file(const std::filesystem::path& name) const;
  // Removes the .part (if it is still ours) and closes everything, unless
  // already committed.
  void abandon();

  std::filesystem::path final_path_;
  WriteOptions options_;
  UniqueFd dir_fd_;
  UniqueFd part_fd_;
  std::vector<Pending> files_;
  BlockPipeline pipeline_;  // reads a file while its last block is hashed and written
};

}  // namespace zktool::archive
