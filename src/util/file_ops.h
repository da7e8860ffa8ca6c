// File-system steps the backup and restore procedures share. Each names the
// path involved in its error.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace zktool {

// A directory created for one run and removed with everything in it when the
// object dies.
//
// It is made mode 0700 by this process's user, and from then on reached only
// through a descriptor of its own: path() goes through /proc/self/fd, so it
// names the directory created even if the parent's owner (ZooKeeper's data
// directory belongs to another user) renames it and puts another in its
// place. Nobody else can enter it, so nothing below it can be swapped either.
class ScratchDirectory {
 public:
  // Creates `<parent>/<prefix><UTC time>-<random>`.
  static Result<ScratchDirectory> create(const std::filesystem::path& parent,
                                         const std::string& prefix);
  ScratchDirectory(ScratchDirectory&& other) noexcept = default;
  ScratchDirectory& operator=(ScratchDirectory&&) = delete;
  ~ScratchDirectory();

  // "/proc/self/fd/N": valid while this object lives.
  const std::filesystem::path& path() const { return path_; }
  // Where it was created, for messages (a name anyone owning the parent may
  // have changed since).
  const std::filesystem::path& created_as() const { return created_as_; }
  // `error` with path() written as created_as(), for the operator.
  Error named(Error error) const;
  // A path below path() written below created_as(), for a record the operator reads.
  std::filesystem::path named(const std::filesystem::path& inside) const;

 private:
  ScratchDirectory(std::filesystem::path created_as, UniqueFd parent, UniqueFd dir);

  std::filesystem::path created_as_;
  UniqueFd parent_;
  UniqueFd dir_;
  std::filesystem::path path_;
};

// "20261121T203000Z": sortable, and safe in file names.
std::string utc_stamp();

// This machine's name, for manifests and lock records.
std::string host_name();

// Durable: the copy is on disk when the call returns (it will be renamed into
// live data). Scratch: it is read and removed within the run, so forcing it
// to disk would only cost the write.
enum class Durability { Durable, Scratch };

// Copies the first `length` bytes of `from` (all of it when unset) to a new
// file `to`, skipping holes so a preallocated log stays sparse; fsyncs it
// when Durable. `from` itself is never a link followed (Unsafe): it may lie in a directory
// another user owns.
Status copy_file_sparse(const std::filesystem::path& from, const std::filesystem::path& to,
                        std::optional<uint64_t> length = std::nullopt,
                        Durability durability = Durability::Durable);

Status fsync_path(const std::filesystem::path& path);

// Writes `contents` to `path` with `mode` (whatever the umask) via a new temporary beside it,
// fsynced and renamed over `path`; the directory is fsynced. Safe in a directory another user
// owns: the temporary is created through a descriptor of the directory, under a random name,
// with O_EXCL and O_NOFOLLOW, so no link that user plants is followed. A link at `path` itself
// is replaced, never written through.
Status write_file_atomically(const std::filesystem::path& path, const std::string& contents,
                             mode_t mode = 0644);
// The same for `name` in the directory open as `dir` (named `parent` in messages).
Status write_file_atomically_at(int dir, const std::filesystem::path& parent,
                                const std::string& name, const std::string& contents,
                                mode_t mode = 0644);

// Up to `max_bytes` of `name` in the directory open as `dir`, for small records that lie in a
// directory another user owns (a lock record, a swap journal): nullopt when it is absent, a
// link, or anything but a regular file (a FIFO planted there does not block the read).
std::optional<std::string> read_small_file_at(int dir, const std::string& name, size_t max_bytes);

// The entries of `dir` (not recursive). ErrorKind::Io naming `dir` when it
// cannot be read to the end: a failure part way is an error, never a shorter
// list.
Result<std::vector<std::filesystem::path>> list_directory(const std::filesystem::path& dir);

// Renames, failing if `to` exists; then fsyncs both parent directories.
Status rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to);

// Gives every file and directory under `root` (itself included) the owner of
// `like`; directories its mode, files its mode without execute bits.
Status take_ownership_of(const std::filesystem::path& root, const std::filesystem::path& like);

// Where a command stages when no --staging-dir was given: `chosen` when set (nothing else is
// looked at), else the temporary directory ($TMPDIR, else /tmp). Usage, naming TMPDIR and the
// flag, when that is not a directory.
Result<std::filesystem::path> staging_parent(const std::optional<std::filesystem::path>& chosen);

// For reading files that another process may truncate while they are mapped
// (inspect on a live data directory, whose logs a resyncing ZooKeeper cuts
// short): from this call on, a SIGBUS ends the process with `message` as one
// line on stderr and `exit_code`, instead of a crash. Nothing was written by
// such a reader, so nothing is lost.
void exit_on_sigbus(const std::string& message, int exit_code);

// The file system holding `path`.
Result<dev_t> device_of(const std::filesystem::path& path);

// Bytes free for an unprivileged writer on the file system holding `path`.
Result<uint64_t> free_bytes(const std::filesystem::path& path);

}  // namespace zktool
