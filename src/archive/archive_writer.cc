#include "archive/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>

#include "archive/archive_path.h"
#include "util/sha256.h"
#include "util/rename_no_replace.h"
#include "util/fault_point.h"

namespace zktool::archive {
namespace {

namespace fs = std::filesystem;

// Large enough that reading and compressing are not dominated by syscalls.
constexpr size_t kBlockSize = 1 << 20;
// Archives hold a cluster's coordination data: readable by the owner only.
constexpr mode_t kArchiveMode = 0600;

Error io_error(const std::string& what, const fs::path& path) {
  return make_error(ErrorKind::Io, what + " " + path.string() + ": " + std::strerror(errno));
}

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using WriteHandle = std::unique_ptr<struct archive, ArchiveFree>;

// A payload file opened for one pass, with what its tar header records.
struct SourceFile {
  UniqueFd fd;
  uint64_t length = 0;
  mode_t perm = 0;
  time_t mtime = 0;
};

// Opens `path` to read `length` bytes of it (all of it when unset).
Result<SourceFile> open_source(const fs::path& path, std::optional<uint64_t> length) {
  SourceFile file;
  file.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.fd.valid()) return io_error("cannot open", path);
  struct stat st {};
  if (fstat(file.fd.get(), &st) != 0) return io_error("cannot stat", path);
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::Io, path.string() + " is not a regular file");
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (length && *length > size) {
    return make_error(ErrorKind::Io, path.string() + " has " + std::to_string(size) +
                                         " bytes, fewer than the " + std::to_string(*length) +
                                         " to archive");
  }
  file.length = length.value_or(size);
  file.perm = st.st_mode & 0777;
  file.mtime = st.st_mtim.tv_sec;
  posix_fadvise(file.fd.get(), 0, static_cast<off_t>(file.length), POSIX_FADV_SEQUENTIAL);
  return file;
}

// Reads the file's `length` bytes once, block by block, into `sink`.
// Reads the file's `length` bytes on this thread while `sink` takes the
// blocks on the pipeline's worker.
Status stream_source(SourceFile& file, const fs::path& path, BlockPipeline& pipeline,
                     const BlockPipeline::Consumer& sink) {
  uint64_t done = 0;
  return pipeline.run(
      [&](char* buffer, size_t capacity) -> Result<size_t> {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(capacity, file.length - done));
        if (want == 0) return size_t{0};
        ssize_t got;
        do {
          got = ::read(file.fd.get(), buffer, want);
        } while (got < 0 && errno == EINTR);
        if (got < 0) return io_error("cannot read", path);
        if (got == 0) {
          return make_error(ErrorKind::Io, path.string() + " shrank to " + std::to_string(done) +
                                               " bytes while being archived");
        }
        done += static_cast<uint64_t>(got);
        return static_cast<size_t>(got);
      },
      sink);
}

Status set_filter_option(struct archive* a, const char* filter, const char* key,
                         const std::string& value) {
  if (archive_write_set_filter_option(a, filter, key, value.c_str()) != ARCHIVE_OK) {
    return make_error(ErrorKind::Usage,
                      std::string(filter) + " " + key + " " + value + " is not supported");
  }
  return Ok{};
}

Result<WriteHandle> new_write_handle(const WriteOptions& options) {
  WriteHandle a(archive_write_new());
  // pax_restricted writes plain ustar headers unless an entry needs more,
  // which every tar reader understands.
  archive_write_set_format_pax_restricted(a.get());
  const char* filter = nullptr;
  switch (options.compression) {
    case Compression::Zstd:
      archive_write_add_filter_zstd(a.get());
      filter = "zstd";
      break;
    case Compression::Gzip:
      archive_write_add_filter_gzip(a.get());
      filter = "gzip";
      break;
    case Compression::None:
      archive_write_add_filter_none(a.get());
      break;
  }
  if (filter && options.level) {
    if (Status s =
            set_filter_option(a.get(), filter, "compression-level", std::to_string(*options.level));
        !s) {
      return s.error();
    }
  }
  if (options.compression == Compression::Zstd) {
    // libarchive 3.6 hands this to ZSTD_c_nbWorkers; zstd then compresses in
    // worker threads while this thread reads and hashes.
    const unsigned threads =
        options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    if (Status s = set_filter_option(a.get(), filter, "threads", std::to_string(threads)); !s) {
      return s.error();
    }
  }
  if (filter) {
    // No zero padding after the compressed stream: `zstd -d` and `gzip -d`
    // would see it as trailing garbage.
    archive_write_set_bytes_in_last_block(a.get(), 1);
  }
  return a;
}

fs::path part_path(const fs::path& final_path) { return fs::path(final_path.string() + ".part"); }

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The lock a writer holds on its .part for as long as it writes it.
Status lock_part(int fd, const fs::path& part) {
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return Ok{};
  if (errno == EWOULDBLOCK) {
    return make_error(ErrorKind::Locked, part.string() + " is being written by another run");
  }
  return io_error("cannot lock", part);
}

// Creates `part` (named `name` in `dir`) anew with O_EXCL and locks it. One already there is
// adopted only as what it can be, a crashed run's leftover: a regular file of this user's, with
// one link, that no live run has locked. It is removed and a new one made, so nothing of its
// owner, mode or contents survives. Anything else (another user's file, a link) is refused: the
// directory's owner must not choose the archive's owner or mode, or read it.
Result<UniqueFd> create_part(int dir, const fs::path& part, const char* name) {
  constexpr int kCreate = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(openat(dir, name, kCreate, kArchiveMode));
  if (!fd.valid() && errno == EEXIST) {
    struct stat st {};
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return io_error("cannot stat", part);
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
      return make_error(ErrorKind::Unsafe,
                        part.string() + " exists and is not a file zk-tool left (owner uid " +
                            std::to_string(st.st_uid) + ", mode " + octal_mode(st.st_mode) +
                            "); remove it to write this archive");
    }
    UniqueFd leftover(openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!leftover.valid()) return io_error("cannot open", part);
    if (Status locked = lock_part(leftover.get(), part); !locked) return locked.error();
    struct stat opened {};
    if (fstat(leftover.get(), &opened) != 0 || opened.st_ino != st.st_ino ||
        opened.st_dev != st.st_dev || unlinkat(dir, name, 0) != 0) {
      return make_error(ErrorKind::Locked, part.string() + " changed while it was cleared");
    }
    fd = UniqueFd(openat(dir, name, kCreate, kArchiveMode));
    if (!fd.valid() && errno == EEXIST) {
      return make_error(ErrorKind::Locked, part.string() + " is being written by another run");
    }
  }
  if (!fd.valid()) return io_error("cannot create", part);
  if (Status locked = lock_part(fd.get(), part); !locked) return locked.error();
  // The file we locked must still be the one named .part: another run may
  // have renamed it to the final name between our open and our lock.
  struct stat locked {};
  struct stat named {};
  if (fstat(fd.get(), &locked) != 0 || fstatat(dir, name, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
      locked.st_dev != named.st_dev || locked.st_ino != named.st_ino) {
    return make_error(ErrorKind::Locked, part.string() + " was just published by another run");
  }
  return fd;
}

}  // namespace

Result<ArchiveWriter> ArchiveWriter::open(const fs::path& final_path, const WriteOptions& options) {
  const fs::path name = final_path.filename();
  if (name.empty()) {
    return make_error(ErrorKind::Usage,
                      "archive path " + final_path.string() + " has no file name");
  }
  const fs::path dir = final_path.has_parent_path() ? final_path.parent_path() : fs::path(".");
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return io_error("cannot open directory", dir);
  struct stat st {};
  if (fstatat(dir_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return make_error(ErrorKind::Unsafe,
                      final_path.string() + " already exists; zk-tool never overwrites an archive");
  }
  const fs::path part = part_path(final_path);
  const fs::path part_name = part.filename();
  auto part_fd = create_part(dir_fd.get(), part, part_name.c_str());
  if (!part_fd) return part_fd.error();
  if (auto handle = new_write_handle(options); !handle) {
    // Refuse bad options now rather than after hashing every file; the
    // writer owns the .part only once constructed, so remove it here.
    unlinkat(dir_fd.get(), part_name.c_str(), 0);
    return handle.error();
  }
  return ArchiveWriter(final_path, options, std::move(dir_fd), std::move(*part_fd));
}

ArchiveWriter::ArchiveWriter(fs::path final_path, WriteOptions options, UniqueFd dir_fd,
                             UniqueFd part_fd)
    : final_path_(std::move(final_path)),
      options_(options),
      dir_fd_(std::move(dir_fd)),
      part_fd_(std::move(part_fd)),
      pipeline_(kBlockSize) {}

ArchiveWriter::~ArchiveWriter() { abandon(); }

bool ArchiveWriter::names_written_file(const fs::path& name) const {
  return names_file(dir_fd_.get(), name.filename().c_str(), part_fd_.get());
}

void ArchiveWriter::abandon() {
  if (part_fd_.valid()) {
    // Whoever put another file under the .part name keeps it.
    const fs::path part = part_path(final_path_);
    if (names_written_file(part)) unlinkat(dir_fd_.get(), part.filename().c_str(), 0);
    part_fd_.reset();
  }
  dir_fd_.reset();
}

Status ArchiveWriter::add_file(const std::string& archive_path, const fs::path& source,
                               const AddOptions& options) {
  if (!part_fd_.valid()) return make_error(ErrorKind::Internal, "add_file on a finished writer");
  if (auto reason = unsafe_path_reason(archive_path)) {
    return make_error(ErrorKind::Internal, "archive path " + archive_path + ": " + *reason);
  }
  for (const Pending& pending : files_) {
    if (pending.entry.path == archive_path) {
      return make_error(ErrorKind::Internal, "archive path " + archive_path + " added twice");
    }
  }
  if (options.sha256 && !is_sha256_hex(*options.sha256)) {
    return make_error(ErrorKind::Internal,
                      "sha256 given for " + archive_path + " is not 64 lowercase hex digits");
  }
  auto file = open_source(source, options.length);
  if (!file) return file.error();
  Pending pending{{archive_path, file->length, options.sha256.value_or("")}, source};
  if (!options.sha256) {
    Sha256 hash;
    Status read = stream_source(*file, source, pipeline_, [&](const char* data, size_t size) {
      hash.update(data, size);
      return Status{};
    });
    if (!read) return read;
    pending.entry.sha256 = hash.finish_hex();
  }
  files_.push_back(std::move(pending));
  return Ok{};
}

Result<Manifest> ArchiveWriter::commit(Manifest manifest, const Proof& prove) {
  if (!part_fd_.valid()) return make_error(ErrorKind::Internal, "commit on a finished writer");
  Status status;
  if (!manifest.files.empty()) {
    status = make_error(ErrorKind::Internal, "commit: the manifest's files must be empty");
  } else {
    for (const Pending& pending : files_) manifest.files.push_back(pending.entry);
    if (Status valid = validate(manifest); !valid) {
      status = make_error(ErrorKind::Internal,
                          "commit: the manifest to write is invalid: " + valid.error().message);
    }
  }
  if (status) status = write_archive(manifest);
  if (status && fsync(part_fd_.get()) != 0) {
    status = io_error("cannot fsync", part_path(final_path_));
  }
  if (status && prove) {
    const fs::path written = fd_path(part_fd_.get());
    if (Status proven = prove(written, manifest); !proven) {
      status = make_error(proven.error().kind,
                          "the archive just written does not verify (" + proven.error().message +
                              "); it was not published as " + final_path_.string());
    }
  }
  if (status) status = publish();
  abandon();
  if (!status) return status.error();
  return manifest;
}

Status ArchiveWriter::write_archive(const Manifest& manifest) {
  const fs::path part = part_path(final_path_);
  auto handle = new_write_handle(options_);
  if (!handle) return handle.error();
  struct archive* a = handle->get();
  // A block the sealer could not write fails with its own error: libarchive
  // passes on only that the write failed.
  Status sealing;
  const auto archive_failure = [&](const std::string& what) -> Error {
    if (!sealing) return sealing.error();
    return make_error(ErrorKind::Io, "writing " + part.string() + ": " + what + ": " +
                                         (archive_error_string(a) ? archive_error_string(a)
                                                                  : "libarchive gave no reason"));
  };
  std::optional<SealingWriter> sealer;
  if (options_.key) {
    auto started = SealingWriter::start(*options_.key, part_fd_.get(), part, manifest.created);
    if (!started) return started.error();
    sealer.emplace(std::move(started.value()));
  }
  struct SealTarget {
    SealingWriter* sealer;
    Status* status;
  } target{sealer ? &*sealer : nullptr, &sealing};
  const auto write_sealed = [](struct archive*, void* client, const void* buffer,
                               size_t length) -> la_ssize_t {
    auto* t = static_cast<SealTarget*>(client);
    *t->status = t->sealer->write(buffer, length);
    return *t->status ? static_cast<la_ssize_t>(length) : -1;
  };
  const int opened = sealer ? archive_write_open(a, &target, nullptr, write_sealed, nullptr)
                            : archive_write_open_fd(a, part_fd_.get());
  if (opened != ARCHIVE_OK) return archive_failure("open");

  const auto write_entry = [&](const std::string& path, uint64_t size, mode_t perm, time_t mtime,
                               const std::function<Status()>& write_data) -> Status {
    std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), perm);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry.get(), mtime, 0);
    if (archive_write_header(a, entry.get()) != ARCHIVE_OK) return archive_failure(path);
    if (Status s = write_data(); !s) return s;
    if (archive_write_finish_entry(a) != ARCHIVE_OK) return archive_failure(path);
    return Status{};
  };
  const auto write_data = [&](const std::string& path, const char* data, size_t size) -> Status {
    if (archive_write_data(a, data, size) != static_cast<la_ssize_t>(size)) {
      return archive_failure(path);
    }
    return Status{};
  };

  const std::string json = to_json(manifest);
  const std::string manifest_name(kManifestName);
  Status status =
      write_entry(manifest_name, json.size(), 0644, manifest.created.time_since_epoch().count(),
                  [&] { return write_data(manifest_name, json.data(), json.size()); });
  if (!status) return status;
  uint64_t total = 0, written = 0;
  for (const Pending& pending : files_) total += pending.entry.size;
  for (const Pending& pending : files_) {
    fault_point("archive.between-entries");
    auto file = open_source(pending.source, pending.entry.size);
    if (!file) return file.error();
    const std::string& path = pending.entry.path;
    Sha256 hash;
    status = write_entry(path, file->length, file->perm, file->mtime, [&] {
      return stream_source(*file, pending.source, pipeline_, [&](const char* data, size_t size) {
        hash.update(data, size);
        Status s = write_data(path, data, size);
        written += size;
        if (s && options_.progress) options_.progress(written, total);
        return s;
      });
    });
    if (!status) return status;
    if (hash.finish_hex() != pending.entry.sha256) {
      return make_error(ErrorKind::Corrupt, pending.source.string() +
                                                " no longer matches the sha256 recorded for " +
                                                path + " (it changed while being archived)");
    }
  }
  if (archive_write_close(a) != ARCHIVE_OK) return archive_failure("close");
  if (sealer) return sealer->finish();
  return Ok{};
}

Status ArchiveWriter::publish() {
  const fs::path part = part_path(final_path_);
  fault_point("archive.before-rename");
  if (rename_no_replace_at(dir_fd_.get(), part.filename().c_str(), dir_fd_.get(),
                          final_path_.filename().c_str()) != 0) {
    if (errno == EEXIST) {
      return make_error(ErrorKind::Unsafe,
                        final_path_.string() + " appeared while writing; it was not overwritten");
    }
    return io_error("cannot rename to", final_path_);
  }
  // The rename went by name: if the directory's owner swapped the .part, the
  // final name now holds their file. It is a name this run just made, so it
  // is taken back: the planted file goes back under the .part name, or, if
  // that name is taken again, away.
  if (!names_written_file(final_path_)) {
    if (rename_no_replace_at(dir_fd_.get(), final_path_.filename().c_str(), dir_fd_.get(),
                             part.filename().c_str()) != 0) {
      unlinkat(dir_fd_.get(), final_path_.filename().c_str(), 0);
    }
    return make_error(ErrorKind::Unsafe, part.string() +
                                             " was replaced by another file while it was "
                                             "written; nothing was published");
  }
  // Published: from here on the .part name is no longer ours to remove.
  if (part_fd_.reset() != 0) return io_error("cannot close", final_path_);
  if (fsync(dir_fd_.get()) != 0) return io_error("cannot fsync the directory of", final_path_);
  return Ok{};
}

}  // namespace zktool::archive
