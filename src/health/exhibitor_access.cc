#include "health/exhibitor_access.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/unique_fd.h"

namespace zktool::health {

namespace {

Error file_error(ErrorKind kind, const std::string& path, const char* what) {
  std::string message(path);
  message += ": ";
  message += what;
  return make_error(kind, std::move(message));
}

Error cannot_read(const std::string& path, int error) {
  std::string what("cannot read: ");
  what += std::strerror(error);
  return file_error(ErrorKind::Io, path, what.c_str());
}

// libcurl opens these only when it connects; a file that is missing or
// unreadable is named now, before anything else happens.
Status check_readable(const std::string& path) {
  if (path.empty()) return Ok{};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return cannot_read(path, errno);
  return Ok{};
}

}  // namespace

Result<std::string> read_token_file(const std::string& path) {
  // O_NONBLOCK: a FIFO in its place must not hang the open.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == ELOOP) {
      return file_error(ErrorKind::Usage, path,
                        "is a symbolic link; a token is read only from the file itself");
    }
    return cannot_read(path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return cannot_read(path, errno);
  if (!S_ISREG(st.st_mode)) return file_error(ErrorKind::Usage, path, "is not a regular file");
  std::string token;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return cannot_read(path, errno);
    if (n == 0) break;
    token.append(buffer, static_cast<size_t>(n));
    if (token.size() > kMaxTokenFileBytes) {
      std::string what("is larger than ");
      what += std::to_string(kMaxTokenFileBytes);
      what += " bytes: not a token";
      return file_error(ErrorKind::Usage, path, what.c_str());
    }
  }
  if (token.ends_with('\n')) token.pop_back();
  if (token.ends_with('\r')) token.pop_back();
  if (token.empty()) return file_error(ErrorKind::Usage, path, "is empty: no token");
  for (char c : token) {
    // Control bytes would end or split the Authorization header.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return file_error(ErrorKind::Usage, path, "is not one line of printable text");
    }
  }
  return token;
}

Result<ExhibitorEndpoint> resolve_exhibitor(const ExhibitorOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return make_error(ErrorKind::Usage,
                      "--exhibitor-cert and --exhibitor-key go together: give both or neither");
  }
  ExhibitorEndpoint endpoint;
  endpoint.url = options.url;
  for (const std::string* file : {&options.ca_file, &options.cert_file, &options.key_file}) {
    if (Status s = check_readable(*file); !s) return s.error();
  }
  endpoint.ca_file = options.ca_file;
  endpoint.cert_file = options.cert_file;
  endpoint.key_file = options.key_file;
  if (!options.token_file.empty()) {
    auto token = read_token_file(options.token_file);
    if (!token) return token.error();
    endpoint.token = std::move(*token);
  }
  return endpoint;
}

}  // namespace zktool::health
