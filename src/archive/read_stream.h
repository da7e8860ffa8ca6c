// Internal to the archive library: one forward pass over an archive's
// entries through libarchive, counting them against a limit and turning
// libarchive's failures into ErrorKind::Corrupt errors naming the archive.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "archive/block_pipeline.h"
#include "archive/compression.h"
#include "archive/encryption.h"
#include "util/unique_fd.h"
#include "util/result.h"

namespace zktool::archive {

class ReadStream {
 public:
  // Accepts tar (ustar, pax, GNU) compressed with zstd, gzip or nothing, and
  // that same stream encrypted (encryption.h), which needs `key`: without it,
  // or with another, ErrorKind::WrongKey.
  static Result<ReadStream> open(const std::filesystem::path& path, uint64_t max_entries,
                                 const std::optional<ArchiveKey>& key = std::nullopt);

  // The next entry, or nullptr after the last. Valid until the next call.
  // For an encrypted archive, the last entry is followed by the rest of the
  // sealed stream, read and authenticated to its final chunk and trailer.
  Result<archive_entry*> next();
  // 1-based number of the entry next() returned last.
  uint64_t index() const { return index_; }
  // Known once next() has returned an entry.
  Compression compression() const;
  // Streams the current entry's data, which must be exactly `size` bytes.
  // An entry of more than one block is decompressed on this thread while
  // `sink` takes the blocks on another (block_pipeline.h), one at a time.
  Status read_data(uint64_t size, const std::string& entry,
                   const std::function<Status(const char*, size_t)>& sink);
  // "<archive>: <what>", as ErrorKind::Corrupt.
  Error corrupt(const std::string& what) const;

 private:
  struct Free {
    void operator()(struct archive* a) const { archive_read_free(a); }
  };

  ReadStream(std::filesystem::path path, UniqueFd fd, uint64_t max_entries);
  // libarchive's read callback over an OpeningReader (the client data).
  static la_ssize_t read_sealed(struct archive* a, void* opener, const void** buffer);
  Error libarchive_failure(const std::string& what) const;
  // The entry held `done` bytes where its header gives `size`.
  Error holds_other_than(uint64_t size, uint64_t done, const std::string& entry) const;

  std::filesystem::path path_;
  UniqueFd fd_;  // declared before archive_: libarchive is freed first
  // Set for an encrypted archive; on the heap, so that libarchive's pointer
  // to it survives moving the stream.
  std::unique_ptr<OpeningReader> opener_;
  std::unique_ptr<struct archive, Free> archive_;
  uint64_t max_entries_;
  uint64_t index_ = 0;
  std::vector<char> buffer_;
  BlockPipeline pipeline_;
};

}  // namespace zktool::archive
