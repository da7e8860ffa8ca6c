// Internal to the archive library: creates directories and files strictly
// inside a staging directory. Every path is walked one component at a time
// from the staging directory's own descriptor with O_NOFOLLOW, so no
// symbolic link, planted or already there, is ever followed; files are
// created with O_EXCL, so nothing is ever overwritten.
//
// Why not libarchive's archive_write_disk with ARCHIVE_EXTRACT_SECURE_*:
// those flags check each path with lstat() before creating it by name, which
// leaves a window between check and use, and archive_write_disk would also
// apply owners, modes, xattrs and ACLs from the archive. Writing the entries
// here means only data reaches the disk, and each byte is hashed on its way.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/unique_fd.h"
#include "util/result.h"

namespace zktool::archive {

class StagingDir {
 public:
  // `dir` must be an existing directory.
  static Result<StagingDir> open(const std::filesystem::path& dir);

  // Paths are relative and already checked by unsafe_path_reason(). Error
  // messages name the path but not the archive: callers add that.
  Status make_directory(std::string_view path);
  // Creates `path` (and its parent directories) as a new, empty file.
  Result<UniqueFd> create_file(std::string_view path);
  // fsyncs every file and directory created, then the staging directory:
  // one wait at the end instead of one per file (callers start each file's
  // writeback when they finish writing it).
  Status sync();

 private:
  StagingDir(std::filesystem::path path, UniqueFd root)
      : path_(std::move(path)), root_(std::move(root)) {}
  Result<UniqueFd> open_directory(std::string_view path, bool create);
  Error io_error(const std::string& what, std::string_view path) const;

  std::filesystem::path path_;
  UniqueFd root_;
  std::set<std::string, std::less<>> created_;  // directories
  std::vector<std::string> files_;
};

}  // namespace zktool::archive
