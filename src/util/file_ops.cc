#include "util/file_ops.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "util/rename_no_replace.h"
#include "util/utc_time.h"

namespace zktool {

namespace fs = std::filesystem;

namespace {

Error io_error(const fs::path& path, const char* what, int err) {
  return make_error(ErrorKind::Io, path.string() + ": " + what + ": " + std::strerror(err));
}

// For the file-system pairs copy_file_range refuses: since Linux 5.19 any
// two of different types (EXDEV), e.g. a data dir on ext4, a backup on tmpfs.
Status copy_through_buffer(int in, int out, off_t begin, off_t end, const fs::path& to) {
  std::vector<char> buffer(1 << 20);
  for (off_t pos = begin; pos < end;) {
    ssize_t n = ::pread(in, buffer.data(), std::min(buffer.size(), static_cast<size_t>(end - pos)), pos);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(to, "copy (read)", errno);
    if (n == 0) return make_error(ErrorKind::Io, to.string() + ": source shrank while copying");
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::pwrite(out, buffer.data() + done, static_cast<size_t>(n - done), pos + done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return io_error(to, "copy", errno);
      done += w;
    }
    pos += n;
  }
  return Ok{};
}

Status copy_range(int in, int out, off_t begin, off_t end, const fs::path& to) {
  off_t in_pos = begin, out_pos = begin;
  while (in_pos < end) {
    ssize_t n = ::copy_file_range(in, &in_pos, out, &out_pos, static_cast<size_t>(end - in_pos), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP)) {
      return copy_through_buffer(in, out, in_pos, end, to);
    }
    if (n < 0) return io_error(to, "copy", errno);
    if (n == 0) return make_error(ErrorKind::Io, to.string() + ": source shrank while copying");
  }
  return Ok{};
}

// 16 hex digits no other run can guess, for names zk-tool creates beside others' files.
std::string random_suffix() {
  std::random_device random;
  char suffix[17];
  std::snprintf(suffix, sizeof(suffix), "%08x%08x", random(), random());
  return suffix;
}

}  // namespace

std::string utc_stamp() {
  std::string stamp = format_utc(
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
  std::erase_if(stamp, [](char c) { return c == '-' || c == ':'; });
  return stamp;
}

std::string host_name() {
  char host[256] = "unknown";
  ::gethostname(host, sizeof(host) - 1);
  return host;
}

ScratchDirectory::ScratchDirectory(fs::path created_as, UniqueFd parent, UniqueFd dir)
    : created_as_(std::move(created_as)),
      parent_(std::move(parent)),
      dir_(std::move(dir)),
      path_(fd_path(dir_.get())) {}

Result<ScratchDirectory> ScratchDirectory::create(const fs::path& parent,
                                                  const std::string& prefix) {
  UniqueFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd.valid()) return io_error(parent, "open", errno);
  const std::string name = prefix + utc_stamp() + "-" + random_suffix();
  fs::path created_as = parent / name;
  if (::mkdirat(parent_fd.get(), name.c_str(), 0700) != 0) {
    return io_error(created_as, "mkdir", errno);
  }
  UniqueFd dir(
      ::openat(parent_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  // Between mkdirat and openat the parent's owner may have swapped the name:
  // only an empty directory of this user's that no one else may enter is as
  // good as the one just made.
  const fs::path through = fd_path(dir.get());
  struct stat st {};
  std::error_code ec;
  const bool ours = dir.valid() && ::fstat(dir.get(), &st) == 0 && st.st_uid == ::geteuid() &&
                    (st.st_mode & 0077) == 0 && fs::is_empty(through, ec) && !ec;
  if (!ours) {
    return make_error(ErrorKind::Unsafe, created_as.string() +
                                             " was replaced as soon as it was made; not used");
  }
  return ScratchDirectory(std::move(created_as), std::move(parent_fd), std::move(dir));
}

Error ScratchDirectory::named(Error error) const {
  const std::string through = path_.string(), shown = created_as_.string();
  for (size_t at = error.message.find(through); at != std::string::npos;) {
    const size_t end = at + through.size();
    // "/proc/self/fd/7" must not take the start of "/proc/self/fd/71".
    if (end < error.message.size() && std::isdigit(static_cast<unsigned char>(error.message[end]))) {
      at = error.message.find(through, end);
      continue;
    }
    error.message.replace(at, through.size(), shown);
    at = error.message.find(through, at + shown.size());
  }
  return error;
}

fs::path ScratchDirectory::named(const fs::path& inside) const {
  return created_as_ / inside.lexically_relative(path_);
}

ScratchDirectory::~ScratchDirectory() {
  if (!dir_.valid()) return;
  std::error_code ec;
  if (auto entries = list_directory(path_)) {
    for (const fs::path& entry : *entries) fs::remove_all(entry, ec);
  }
  // The name goes only if it still is this directory.
  const std::string name = created_as_.filename().string();
  if (names_file(parent_.get(), name.c_str(), dir_.get())) {
    ::unlinkat(parent_.get(), name.c_str(), AT_REMOVEDIR);
  }
}

Status copy_file_sparse(const fs::path& from, const fs::path& to, std::optional<uint64_t> length,
                        Durability durability) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (in.get() < 0 && errno == ELOOP) {
    return make_error(ErrorKind::Unsafe, from.string() + " is a symbolic link; not followed");
  }
  if (in.get() < 0) return io_error(from, "open", errno);
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return io_error(from, "stat", errno);
  auto end = static_cast<off_t>(length ? std::min<uint64_t>(*length, st.st_size) : st.st_size);
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return io_error(to, "create", errno);
  off_t pos = 0;
  while (pos < end) {
    off_t data = ::lseek(in.get(), pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole remains
    if (data < 0) data = pos;               // no hole support: copy everything
    if (data >= end) break;
    off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
    if (hole < 0 || hole > end) hole = end;
    if (Status s = copy_range(in.get(), out.get(), data, hole, to); !s) return s;
    pos = hole;
  }
  if (::ftruncate(out.get(), end) != 0) return io_error(to, "truncate", errno);
  if (durability == Durability::Durable && ::fsync(out.get()) != 0) {
    return io_error(to, "fsync", errno);
  }
  return Ok{};
}

Status fsync_path(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return io_error(path, "open", errno);
  if (::fsync(fd.get()) != 0) return io_error(path, "fsync", errno);
  return Ok{};
}

Status write_file_atomically(const fs::path& path, const std::string& contents, mode_t mode) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  UniqueFd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return io_error(parent, "open directory", errno);
  return write_file_atomically_at(dir.get(), parent, path.filename().string(), contents, mode);
}

Status write_file_atomically_at(int dir, const fs::path& parent, const std::string& name,
                                const std::string& contents, mode_t mode) {
  // Everything happens through one descriptor of the parent: the directory may belong to
  // someone else (ZooKeeper's data directory, a group-writable metrics directory), whose owner
  // can plant links or swap names at any moment. The temporary's name is random and created
  // with O_EXCL | O_NOFOLLOW, so no planted name is ever opened, followed or truncated.
  const std::string tmp =
      std::string(".").append(name).append(".zk-tool-tmp-").append(random_suffix());
  UniqueFd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 mode));
  if (fd.get() < 0) return io_error(parent / tmp, "create", errno);
  auto failed = [&](const char* what, int err) {
    ::unlinkat(dir, tmp.c_str(), 0);
    return io_error(parent / tmp, what, err);
  };
  // The mode asked for, whatever the umask (node_exporter reads metrics as its own user).
  if (::fchmod(fd.get(), mode) != 0) return failed("chmod", errno);
  for (size_t done = 0; done < contents.size();) {
    ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed("write", errno);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return failed("fsync", errno);
  if (::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    return failed("rename", errno);
  }
  if (::fsync(dir) != 0) return io_error(parent, "fsync", errno);
  return Ok{};
}

std::optional<std::string> read_small_file_at(int dir, const std::string& name, size_t max_bytes) {
  UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::string text(max_bytes, '\0');
  ssize_t n = ::pread(fd.get(), text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return text;
}

namespace {

// What the SIGBUS handler writes; set before it is installed, read only by it.
char sigbus_message[512];
size_t sigbus_message_length = 0;
int sigbus_exit_code = 1;

void on_sigbus(int) {
  // Only async-signal-safe calls here.
  (void)!::write(STDERR_FILENO, sigbus_message, sigbus_message_length);
  ::_exit(sigbus_exit_code);
}

}  // namespace

void exit_on_sigbus(const std::string& message, int exit_code) {
  const std::string line = message + "\n";
  sigbus_message_length = std::min(line.size(), sizeof(sigbus_message));
  std::memcpy(sigbus_message, line.data(), sigbus_message_length);
  sigbus_exit_code = exit_code;
  struct sigaction action {};
  action.sa_handler = on_sigbus;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, nullptr);
}

Result<std::vector<fs::path>> list_directory(const fs::path& dir) {
  std::vector<fs::path> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec) return make_error(ErrorKind::Io, dir.string() + ": cannot list: " + ec.message());
  return entries;
}

Status rename_no_replace(const fs::path& from, const fs::path& to) {
  if (rename_no_replace_at(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str()) != 0) {
    return make_error(ErrorKind::Io, "rename " + from.string() + " to " + to.string() + ": " +
                                         std::strerror(errno));
  }
  if (Status s = fsync_path(to.parent_path()); !s) return s;
  if (from.parent_path() != to.parent_path()) return fsync_path(from.parent_path());
  return Ok{};
}

Status take_ownership_of(const fs::path& root, const fs::path& like) {
  struct stat model {};
  if (::stat(like.c_str(), &model) != 0) return io_error(like, "stat", errno);
  mode_t dir_mode = model.st_mode & 07777;
  mode_t file_mode = dir_mode & ~static_cast<mode_t>(0111);
  auto apply = [&](const fs::path& p, bool is_dir) -> Status {
    if (::lchown(p.c_str(), model.st_uid, model.st_gid) != 0) return io_error(p, "chown", errno);
    if (::chmod(p.c_str(), is_dir ? dir_mode : file_mode) != 0) return io_error(p, "chmod", errno);
    return Ok{};
  };
  if (Status s = apply(root, true); !s) return s;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (Status s = apply(it->path(), it->is_directory()); !s) return s;
  }
  if (ec) return make_error(ErrorKind::Io, root.string() + ": " + ec.message());
  return Ok{};
}

Result<fs::path> staging_parent(const std::optional<fs::path>& chosen) {
  if (chosen) return *chosen;
  std::error_code ec;
  fs::path tmp = fs::temp_directory_path(ec);
  if (ec) {
    const char* env = std::getenv("TMPDIR");
    return make_error(ErrorKind::Usage, std::string("the temporary directory (TMPDIR=") +
                                            (env != nullptr ? env : "") + ") is not usable: " +
                                            ec.message() + "; give --staging-dir");
  }
  return tmp;
}

Result<dev_t> device_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_error(path, "stat", errno);
  return st.st_dev;
}

Result<uint64_t> free_bytes(const fs::path& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) return io_error(path, "statvfs", errno);
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

}  // namespace zktool
