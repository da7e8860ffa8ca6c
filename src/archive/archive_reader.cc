#include "archive/archive_reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "archive/archive_path.h"
#include "archive/read_stream.h"
#include "util/sha256.h"
#include "archive/sparse_writer.h"
#include "archive/staging_dir.h"

namespace zktool::archive {
namespace {

namespace fs = std::filesystem;

// About 150 bytes per file listed: room for hundreds of thousands of files.
constexpr uint64_t kMaxManifestBytes = 64 << 20;

EntryType entry_type(archive_entry* entry) {
  // A tar hard link carries the regular-file type: look at the link first.
  if (archive_entry_hardlink(entry)) return EntryType::HardLink;
  if (archive_entry_symlink(entry)) return EntryType::Symlink;
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      return EntryType::File;
    case AE_IFDIR:
      return EntryType::Directory;
    case AE_IFLNK:
      return EntryType::Symlink;
    case AE_IFCHR:
      return EntryType::CharDevice;
    case AE_IFBLK:
      return EntryType::BlockDevice;
    case AE_IFIFO:
      return EntryType::Fifo;
    case AE_IFSOCK:
      return EntryType::Socket;
    default:
      return EntryType::Other;
  }
}

uint64_t entry_size(archive_entry* entry) {
  const la_int64_t size = archive_entry_size(entry);
  return size > 0 ? static_cast<uint64_t>(size) : 0;
}

Result<Manifest> read_manifest(ReadStream& stream, archive_entry* entry) {
  const std::string name = quote_for_message(archive_entry_pathname(entry));
  if (entry_type(entry) != EntryType::File) {
    return stream.corrupt("entry " + name + ": the manifest must be a regular file");
  }
  const uint64_t size = entry_size(entry);
  if (size > kMaxManifestBytes) {
    return stream.corrupt("entry " + name + ": " + std::to_string(size) +
                          " bytes is more than a manifest may have");
  }
  std::string text;
  Status read = stream.read_data(size, name, [&](const char* data, size_t n) {
    text.append(data, n);
    return Status{};
  });
  if (!read) return read.error();
  auto manifest = parse_manifest(text);
  if (!manifest) return stream.corrupt(manifest.error().message);
  return manifest;
}

bool is_manifest(archive_entry* entry) {
  const char* raw = archive_entry_pathname(entry);
  return raw && normalize_entry_path(raw) == kManifestName;
}

// One extraction: the checks that need the whole pass (duplicates, limits,
// files the manifest lists) and the files written so far. Without a staging
// directory it is a check that writes nothing.
class Extraction {
 public:
  Extraction(ReadStream& stream, StagingDir* staging, const Limits& limits)
      : stream_(stream), staging_(staging), limits_(limits) {}

  Result<Extracted> run();

 private:
  Status entry(archive_entry* entry);
  Status file(archive_entry* entry, const std::string& path, const std::string& name);
  // "<archive>: entry <name>: <what>", keeping the kind of `error`.
  Error fail(const std::string& name, const Error& error) const;

  ReadStream& stream_;
  StagingDir* staging_;
  const Limits& limits_;
  Extracted result_;
  std::map<std::string, const FileEntry*, std::less<>> listed_;
  std::set<std::string, std::less<>> seen_;
  uint64_t total_bytes_ = 0;
};

Result<Extracted> Extraction::run() {
  while (true) {
    auto next = stream_.next();
    if (!next) return next.error();
    if (!*next) break;
    if (stream_.index() == 1 && is_manifest(*next)) {
      auto manifest = read_manifest(stream_, *next);
      if (!manifest) return manifest.error();
      result_.manifest = std::move(*manifest);
      uint64_t listed_bytes = 0;
      for (const FileEntry& f : result_.manifest->files) {
        // Refuse an oversized archive before writing any of it.
        if (f.size > limits_.max_total_bytes - listed_bytes) {
          return stream_.corrupt("the manifest lists more than the limit of " +
                                 std::to_string(limits_.max_total_bytes) + " bytes");
        }
        listed_bytes += f.size;
        listed_.emplace(f.path, &f);
      }
      continue;
    }
    if (Status s = entry(*next); !s) return s.error();
  }
  if (stream_.index() == 0) return stream_.corrupt("the archive has no entries");
  for (const auto& [path, listed] : listed_) {
    if (!seen_.contains(path)) {
      return stream_.corrupt(path + " is listed in the manifest but missing from the archive");
    }
  }
  if (staging_ != nullptr) {
    if (Status s = staging_->sync(); !s) return s.error();
  }
  return std::move(result_);
}

Error Extraction::fail(const std::string& name, const Error& error) const {
  return make_error(error.kind, stream_.corrupt("entry " + name + ": " + error.message).message);
}

Status Extraction::entry(archive_entry* entry) {
  const char* raw = archive_entry_pathname(entry);
  if (!raw) {
    return stream_.corrupt("entry #" + std::to_string(stream_.index()) +
                           " has a name that cannot be decoded");
  }
  const std::string name = quote_for_message(raw);
  const auto refuse = [&](const std::string& why) {
    return fail(name, make_error(ErrorKind::Corrupt, why));
  };
  const std::string path(normalize_entry_path(raw));
  if (path == kManifestName) {
    return refuse("the manifest is entry #" + std::to_string(stream_.index()) +
                  "; it must be the first");
  }
  switch (entry_type(entry)) {
    case EntryType::File:
    case EntryType::Directory:
      break;
    case EntryType::HardLink:
      return refuse("hard links are not allowed");
    case EntryType::Symlink:
      return refuse("symbolic links are not allowed");
    case EntryType::CharDevice:
      return refuse("character devices are not allowed");
    case EntryType::BlockDevice:
      return refuse("block devices are not allowed");
    case EntryType::Fifo:
      return refuse("FIFOs are not allowed");
    case EntryType::Socket:
      return refuse("sockets are not allowed");
    case EntryType::Other:
      return refuse("entries of this type are not allowed");
  }
  const bool directory = entry_type(entry) == EntryType::Directory;
  // "./" is the archive's own top directory, the staging directory itself.
  if (path.empty() && directory) return Ok{};
  if (auto reason = unsafe_path_reason(path)) return refuse(*reason);
  if (!seen_.insert(path).second) return refuse("appears twice in the archive");
  if (directory) {
    if (staging_ == nullptr) return Ok{};
    if (Status s = staging_->make_directory(path); !s) return fail(name, s.error());
    return Ok{};
  }
  return file(entry, path, name);
}

Status Extraction::file(archive_entry* entry, const std::string& path, const std::string& name) {
  const auto refuse = [&](const std::string& why) {
    return fail(name, make_error(ErrorKind::Corrupt, why));
  };
  const uint64_t size = entry_size(entry);
  const FileEntry* listed = nullptr;
  if (result_.manifest) {
    const auto it = listed_.find(path);
    if (it == listed_.end()) return refuse("is not listed in the manifest");
    listed = it->second;
    if (size != listed->size) {
      return refuse("has " + std::to_string(size) + " bytes, the manifest lists " +
                    std::to_string(listed->size));
    }
  }
  if (size > limits_.max_total_bytes - total_bytes_) {
    return refuse("takes the archive past its limit of " + std::to_string(limits_.max_total_bytes) +
                  " bytes");
  }
  total_bytes_ += size;

  std::optional<UniqueFd> fd;
  if (staging_ != nullptr) {
    auto created = staging_->create_file(path);
    if (!created) return fail(name, created.error());
    fd.emplace(std::move(*created));
  }
  Sha256 hash;
  std::optional<SparseWriter> writer;
  if (fd) writer.emplace(fd->get());
  Status written = stream_.read_data(size, name, [&](const char* data, size_t n) -> Status {
    hash.update(data, n);
    if (writer) {
      if (Status s = writer->write(data, n); !s) return fail(name, s.error());
    }
    return Ok{};
  });
  if (!written) return written;
  if (writer) {
    if (Status s = writer->finish(); !s) return fail(name, s.error());
  }
  const std::string sha256 = hash.finish_hex();
  if (listed && sha256 != listed->sha256) {
    return refuse("sha256 " + sha256 + " differs from the manifest's " + listed->sha256);
  }
  const timespec times[2] = {{0, UTIME_OMIT}, {archive_entry_mtime(entry), 0}};
  // Start the writeback now; StagingDir::sync() waits for all files at the end.
  if (fd && (futimens(fd->get(), times) != 0 ||
             sync_file_range(fd->get(), 0, 0, SYNC_FILE_RANGE_WRITE) != 0 || fd->reset() != 0)) {
    return fail(name, make_error(ErrorKind::Io,
                                 std::string("cannot finish writing: ") + std::strerror(errno)));
  }
  result_.files.push_back({path, size, sha256});
  return Ok{};
}

}  // namespace

std::string_view to_string(EntryType type) {
  switch (type) {
    case EntryType::File:
      return "file";
    case EntryType::Directory:
      return "directory";
    case EntryType::Symlink:
      return "symlink";
    case EntryType::HardLink:
      return "hardlink";
    case EntryType::CharDevice:
      return "char-device";
    case EntryType::BlockDevice:
      return "block-device";
    case EntryType::Fifo:
      return "fifo";
    case EntryType::Socket:
      return "socket";
    case EntryType::Other:
      return "other";
  }
  return "other";
}

Result<ArchiveReader> ArchiveReader::open(const fs::path& archive,
                                          const std::optional<ArchiveKey>& key) {
  auto stream = ReadStream::open(archive, /*max_entries=*/1, key);
  if (!stream) return stream.error();
  auto first = stream->next();
  if (!first) return first.error();
  if (!*first) return stream->corrupt("the archive has no entries");
  std::optional<Manifest> manifest;
  if (is_manifest(*first)) {
    auto read = read_manifest(*stream, *first);
    if (!read) return read.error();
    manifest = std::move(*read);
  }
  return ArchiveReader(archive, key, stream->compression(), std::move(manifest));
}

Result<std::vector<ArchiveEntry>> ArchiveReader::list(const Limits& limits) const {
  auto stream = ReadStream::open(path_, limits.max_entries, key_);
  if (!stream) return stream.error();
  std::vector<ArchiveEntry> entries;
  while (true) {
    auto next = stream->next();
    if (!next) return next.error();
    if (!*next) break;
    const char* raw = archive_entry_pathname(*next);
    entries.push_back({raw ? raw : "", entry_size(*next), entry_type(*next)});
  }
  return entries;
}

Result<Extracted> ArchiveReader::extract_verified(const fs::path& staging_dir,
                                                  const Limits& limits) const {
  auto stream = ReadStream::open(path_, limits.max_entries, key_);
  if (!stream) return stream.error();
  auto staging = StagingDir::open(staging_dir);
  if (!staging) return staging.error();
  return Extraction(*stream, &*staging, limits).run();
}

Result<Extracted> ArchiveReader::check(const Limits& limits) const {
  auto stream = ReadStream::open(path_, limits.max_entries, key_);
  if (!stream) return stream.error();
  return Extraction(*stream, nullptr, limits).run();
}

}  // namespace zktool::archive
