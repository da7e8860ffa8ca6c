#include "archive/read_stream.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace zktool::archive {

namespace fs = std::filesystem;

namespace {
constexpr size_t kBlockSize = 1 << 20;
}

Result<ReadStream> ReadStream::open(const fs::path& path, uint64_t max_entries,
                                    const std::optional<ArchiveKey>& key) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return make_error(ErrorKind::Io,
                      "cannot open archive " + path.string() + ": " + std::strerror(errno));
  }
  auto sealed = is_sealed(fd.get(), path);
  if (!sealed) return sealed.error();
  std::unique_ptr<OpeningReader> opener;
  if (*sealed) {
    if (!key) {
      return make_error(ErrorKind::WrongKey, path.string() +
                                                 " is an encrypted zk-tool archive: give its key "
                                                 "(--encrypt-key-file)");
    }
    auto opened = OpeningReader::open(*key, std::move(fd), path);
    if (!opened) return opened.error();
    opener = std::make_unique<OpeningReader>(std::move(opened.value()));
  }
  ReadStream stream(path, std::move(fd), max_entries);
  stream.opener_ = std::move(opener);
  struct archive* a = stream.archive_.get();
  // Only what zk-tool and dcos-zk write: every other format and filter
  // libarchive knows stays switched off.
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  const int opened =
      stream.opener_ ? archive_read_open(a, stream.opener_.get(), nullptr, &read_sealed, nullptr)
                     : archive_read_open_fd(a, stream.fd_.get(), kBlockSize);
  if (opened != ARCHIVE_OK) return stream.libarchive_failure("cannot read");
  return stream;
}

la_ssize_t ReadStream::read_sealed(struct archive* a, void* opener, const void** buffer) {
  auto chunk = static_cast<OpeningReader*>(opener)->next();
  if (!chunk) {
    archive_set_error(a, EIO, "%s", chunk.error().message.c_str());
    return -1;
  }
  *buffer = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

ReadStream::ReadStream(fs::path path, UniqueFd fd, uint64_t max_entries)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      archive_(archive_read_new()),
      max_entries_(max_entries),
      buffer_(kBlockSize),
      pipeline_(kBlockSize) {}

Result<archive_entry*> ReadStream::next() {
  archive_entry* entry = nullptr;
  const int r = archive_read_next_header(archive_.get(), &entry);
  if (r == ARCHIVE_EOF) {
    // libarchive stops at the tar's end; the sealed stream must end there too,
    // with its final chunk and a trailer that matches.
    while (opener_) {
      auto rest = opener_->next();
      if (!rest) return rest.error();
      if (rest->empty()) break;
    }
    return static_cast<archive_entry*>(nullptr);
  }
  // ARCHIVE_WARN is a header read in full with a notice (e.g. about
  // character sets); the checks on the entry itself decide.
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
    return libarchive_failure("cannot read entry #" + std::to_string(index_ + 1));
  }
  if (++index_ > max_entries_) {
    return corrupt("has more than " + std::to_string(max_entries_) + " entries, the limit");
  }
  return entry;
}

Compression ReadStream::compression() const {
  switch (archive_filter_code(archive_.get(), 0)) {
    case ARCHIVE_FILTER_ZSTD:
      return Compression::Zstd;
    case ARCHIVE_FILTER_GZIP:
      return Compression::Gzip;
    default:
      return Compression::None;
  }
}

Status ReadStream::read_data(uint64_t size, const std::string& entry,
                             const std::function<Status(const char*, size_t)>& sink) {
  uint64_t done = 0;
  // Decompresses on this thread into the pipeline's blocks. libarchive stops
  // at the size in the entry's header; more data than `size` means the
  // header lied about it, less that the archive ends early.
  const auto decompress = [&](char* buffer, size_t capacity) -> Result<size_t> {
    const la_ssize_t got = archive_read_data(archive_.get(), buffer, capacity);
    if (got < 0) return libarchive_failure("entry " + entry);
    done += static_cast<uint64_t>(got);
    if (done > size) return holds_other_than(size, done, entry);
    return static_cast<size_t>(got);
  };
  if (size <= kBlockSize) {
    // One block: not worth a thread.
    for (;;) {
      auto got = decompress(buffer_.data(), buffer_.size());
      if (!got) return got.error();
      if (*got == 0) break;
      if (Status s = sink(buffer_.data(), *got); !s) return s;
    }
  } else {
    if (Status s = pipeline_.run(decompress, sink); !s) return s;
  }
  if (done != size) return holds_other_than(size, done, entry);
  return Ok{};
}

Error ReadStream::holds_other_than(uint64_t size, uint64_t done, const std::string& entry) const {
  if (done > size) {
    return corrupt("entry " + entry + ": holds more than the " + std::to_string(size) +
                   " bytes its header gives");
  }
  return corrupt("entry " + entry + ": holds " + std::to_string(done) + " bytes, its header " +
                 std::to_string(size));
}

Error ReadStream::corrupt(const std::string& what) const {
  return make_error(ErrorKind::Corrupt, path_.string() + ": " + what);
}

Error ReadStream::libarchive_failure(const std::string& what) const {
  const char* reason = archive_error_string(archive_.get());
  return corrupt(what + ": " + (reason ? reason : "libarchive gave no reason"));
}

}  // namespace zktool::archive
