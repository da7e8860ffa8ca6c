#include "support/four_letter.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <sstream>
#include <string_view>

namespace zktool::testsupport {

namespace {

using Clock = std::chrono::steady_clock;

int millis_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, millis_left(deadline));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

}  // namespace

Result<std::string> four_letter_word(const std::string& host, int port, const std::string& word,
                                     std::chrono::milliseconds timeout) {
  std::string where = word + " to " + host + ":" + std::to_string(port);
  auto unhealthy = [&](const std::string& what) {
    return make_error(ErrorKind::Unhealthy, where + ": " + what);
  };
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return make_error(ErrorKind::Usage, where + ": not an IPv4 address");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(ErrorKind::Io, where + ": socket: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  auto deadline = Clock::now() + timeout;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return unhealthy(std::strerror(errno));
    if (!wait_for(fd, POLLOUT, deadline)) return unhealthy("connect timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return unhealthy(std::strerror(err));
  }
  size_t sent = 0;
  while (sent < word.size()) {
    if (!wait_for(fd, POLLOUT, deadline)) return unhealthy("send timed out");
    ssize_t n = ::send(fd, word.data() + sent, word.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return unhealthy(std::strerror(errno));
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    if (!wait_for(fd, POLLIN, deadline)) return unhealthy("no complete reply in time");
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      // A server that closes with unread data resets the connection; what
      // arrived before the reset is still the reply.
      if (errno == ECONNRESET && !reply.empty()) break;
      return unhealthy(std::strerror(errno));
    }
    reply.append(buf, static_cast<size_t>(n));
  }
  return reply;
}

Result<SrvrInfo> parse_srvr(const std::string& reply) {
  SrvrInfo info;
  if (reply.find("not currently serving") != std::string::npos) return info;

  bool have_zxid = false, have_count = false;
  std::istringstream lines(reply);
  std::string line;
  auto value_after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (line.rfind(prefix, 0) != 0) return std::nullopt;
    return std::string_view(line).substr(prefix.size());
  };
  while (std::getline(lines, line)) {
    if (auto v = value_after("Mode: ")) {
      info.mode = std::string(*v);
    } else if (auto zxid = value_after("Zxid: 0x")) {
      uint64_t z = 0;
      auto r = std::from_chars(zxid->data(), zxid->data() + zxid->size(), z, 16);
      have_zxid = r.ec == std::errc{};
      info.zxid = static_cast<int64_t>(z);
    } else if (auto count = value_after("Node count: ")) {
      auto r = std::from_chars(count->data(), count->data() + count->size(), info.node_count);
      have_count = r.ec == std::errc{};
    }
  }
  if (info.mode.empty() || !have_zxid || !have_count) {
    return make_error(ErrorKind::Corrupt, "srvr reply lacks Mode, Zxid or Node count: \"" +
                                              reply.substr(0, 200) + "\"");
  }
  info.serving = true;
  return info;
}

}  // namespace zktool::testsupport
