#include "archive/staging_dir.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace zktool::archive {

namespace fs = std::filesystem;

namespace {
// Private until the restore gives them the owner and mode of the data they
// replace.
constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;
}  // namespace

Result<StagingDir> StagingDir::open(const fs::path& dir) {
  UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return make_error(ErrorKind::Io, "cannot open staging directory " + dir.string() + ": " +
                                         std::strerror(errno));
  }
  return StagingDir(dir, std::move(root));
}

Error StagingDir::io_error(const std::string& what, std::string_view path) const {
  const int err = errno;
  // These mean something in the staging directory is in the way (a file
  // where a directory goes, a link): the archive's doing, or a planted trap.
  if (err == EEXIST || err == ENOTDIR || err == ELOOP) {
    return make_error(ErrorKind::Corrupt,
                      std::string(path) + " is already in the staging directory " + path_.string() +
                          " (not as a directory, or as a link)");
  }
  return make_error(ErrorKind::Io,
                    what + " " + (path_ / path).string() + ": " + std::strerror(err));
}

Result<UniqueFd> StagingDir::open_directory(std::string_view path, bool create) {
  UniqueFd current(::dup(root_.get()));
  if (!current.valid()) return io_error("cannot open", "");
  size_t start = 0;
  while (start < path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string part(path.substr(start, end - start));
    const std::string_view so_far = path.substr(0, end);
    if (create && !created_.contains(so_far)) {
      if (mkdirat(current.get(), part.c_str(), kDirMode) == 0) {
        created_.emplace(so_far);
      } else if (errno != EEXIST) {
        return io_error("cannot create directory", so_far);
      }
    }
    UniqueFd next(
        openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return io_error("cannot open directory", so_far);
    current = std::move(next);
    start = end + 1;
  }
  return current;
}

Status StagingDir::make_directory(std::string_view path) {
  auto dir = open_directory(path, /*create=*/true);
  if (!dir) return dir.error();
  return Ok{};
}

Result<UniqueFd> StagingDir::create_file(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view parent = slash == std::string_view::npos ? "" : path.substr(0, slash);
  const std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  auto dir = open_directory(parent, /*create=*/true);
  if (!dir) return dir.error();
  UniqueFd file(openat(dir->get(), name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kFileMode));
  if (!file.valid()) return io_error("cannot create", path);
  files_.emplace_back(path);
  return file;
}

Status StagingDir::sync() {
  for (const std::string& path : files_) {
    const size_t slash = path.rfind('/');
    auto dir = open_directory(slash == std::string::npos ? "" : path.substr(0, slash),
                              /*create=*/false);
    if (!dir) return dir.error();
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    UniqueFd file(openat(dir->get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!file.valid()) return io_error("cannot open", path);
    if (fsync(file.get()) != 0) return io_error("cannot fsync", path);
  }
  for (const std::string& path : created_) {
    auto dir = open_directory(path, /*create=*/false);
    if (!dir) return dir.error();
    if (fsync(dir->get()) != 0) return io_error("cannot fsync", path);
  }
  if (fsync(root_.get()) != 0) return io_error("cannot fsync", "");
  return Ok{};
}

}  // namespace zktool::archive
