#include "health/four_letter.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "health/excerpt.h"

namespace zktool::health {

namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int error) { return std::generic_category().message(error); }

int millis_left(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until `fd` has `events` or the deadline passes; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int ready = ::poll(&p, 1, millis_left(deadline));
    if (ready > 0) return true;
    if (ready == 0 || errno != EINTR) return false;
  }
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Connects to one resolved address; the reason as an errno text on failure.
Result<int> connect_one(const addrinfo& address, Clock::time_point deadline) {
  int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    address.ai_protocol);
  if (fd < 0) return make_error(ErrorKind::Unhealthy, "socket: " + errno_text(errno));
  if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0) return fd;
  int error = errno;
  if (error == EINPROGRESS) {
    if (!wait_for(fd, POLLOUT, deadline)) {
      ::close(fd);
      return make_error(ErrorKind::Unhealthy, "connect timed out");
    }
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error == 0) return fd;
  }
  ::close(fd);
  return make_error(ErrorKind::Unhealthy, errno_text(error));
}

// One getaddrinfo answer, shared by the thread that asks and the caller.
struct Resolution {
  std::mutex mutex;
  std::condition_variable answered;
  bool done = false;
  int rc = 0;
  addrinfo* addresses = nullptr;
  ~Resolution() {
    if (addresses != nullptr) ::freeaddrinfo(addresses);
  }
};

// getaddrinfo has no deadline of its own: a resolver that does not answer
// holds it for resolv.conf's timeout times its attempts, per address family,
// far past a probe's deadline. So it runs on a thread of its own; at the
// deadline the caller goes on without it, and the thread, whenever it ends,
// frees its answer alone.
Result<std::shared_ptr<Resolution>> resolve(const std::string& host, int port,
                                            Clock::time_point deadline) {
  auto resolution = std::make_shared<Resolution>();
  std::thread([resolution, host, service = std::to_string(port)] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* addresses = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses);
    std::lock_guard lock(resolution->mutex);
    resolution->rc = rc;
    resolution->addresses = addresses;
    resolution->done = true;
    resolution->answered.notify_all();
  }).detach();
  std::unique_lock lock(resolution->mutex);
  if (!resolution->answered.wait_until(lock, deadline, [&] { return resolution->done; })) {
    return make_error(ErrorKind::Unhealthy, "cannot resolve: no answer from the resolver in time");
  }
  if (resolution->rc != 0) {
    return make_error(ErrorKind::Unhealthy,
                      std::string("cannot resolve: ") + ::gai_strerror(resolution->rc));
  }
  return resolution;
}

// Tries every address the host resolves to, within one deadline.
Result<int> connect_host(const std::string& host, int port, Clock::time_point deadline) {
  auto resolved = resolve(host, port, deadline);
  if (!resolved) return resolved.error();
  Result<int> last = make_error(ErrorKind::Unhealthy, "no address");
  for (const addrinfo* a = (*resolved)->addresses; a != nullptr; a = a->ai_next) {
    last = connect_one(*a, deadline);
    if (last || Clock::now() >= deadline) break;
  }
  return last;
}

std::optional<std::string_view> value_after(std::string_view line, std::string_view prefix) {
  if (!line.starts_with(prefix)) return std::nullopt;
  return line.substr(prefix.size());
}

template <typename Int>
bool parse_whole(std::string_view text, Int& value, int base) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

std::optional<ServerMode> parse_mode(std::string_view text) {
  for (ServerMode mode : {ServerMode::kLeader, ServerMode::kFollower, ServerMode::kObserver,
                          ServerMode::kStandalone, ServerMode::kReadOnly}) {
    if (text == to_string(mode)) return mode;
  }
  return std::nullopt;
}

}  // namespace

std::string host_port(const std::string& host, int port) {
  bool ipv6_literal = host.find(':') != std::string::npos;
  return (ipv6_literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<std::string> four_letter_word(const std::string& host, int port, std::string_view word,
                                     std::chrono::milliseconds timeout, size_t max_reply) {
  std::string where = std::string(word) + " to " + host_port(host, port) + ": ";
  auto unhealthy = [&](const std::string& what) {
    return make_error(ErrorKind::Unhealthy, where + what);
  };
  auto deadline = Clock::now() + timeout;
  auto connected = connect_host(host, port, deadline);
  if (!connected) return unhealthy(connected.error().message);
  Socket socket(*connected);

  size_t sent = 0;
  while (sent < word.size()) {
    if (!wait_for(socket.fd(), POLLOUT, deadline)) return unhealthy("send timed out");
    ssize_t n = ::send(socket.fd(), word.data() + sent, word.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return unhealthy(errno_text(errno));
    if (n > 0) sent += static_cast<size_t>(n);
  }

  std::string reply;
  char buffer[4096];
  for (;;) {
    if (!wait_for(socket.fd(), POLLIN, deadline)) {
      return unhealthy("no complete reply within " + std::to_string(timeout.count()) + " ms");
    }
    ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      // A server that closes with our bytes unread resets the connection;
      // what arrived before the reset is still the whole reply.
      if (errno == ECONNRESET && !reply.empty()) break;
      return unhealthy(errno_text(errno));
    }
    if (reply.size() + static_cast<size_t>(n) > max_reply) {
      return unhealthy("reply exceeds " + std::to_string(max_reply) + " bytes");
    }
    reply.append(buffer, static_cast<size_t>(n));
  }
  if (reply.find("is not executed because it is not in the whitelist") != std::string::npos) {
    return unhealthy("refused: the server's 4lw.commands.whitelist does not list it");
  }
  return reply;
}

Status ruok(const std::string& host, int port, std::chrono::milliseconds timeout) {
  auto reply = four_letter_word(host, port, "ruok", timeout);
  if (!reply) return reply.error();
  if (*reply != "imok") {
    return make_error(ErrorKind::Unhealthy, "ruok to " + host_port(host, port) + ": answered " +
                                                excerpt(*reply) + ", not \"imok\"");
  }
  return Ok{};
}

std::string_view to_string(ServerMode mode) {
  switch (mode) {
    case ServerMode::kLeader: return "leader";
    case ServerMode::kFollower: return "follower";
    case ServerMode::kObserver: return "observer";
    case ServerMode::kStandalone: return "standalone";
    case ServerMode::kReadOnly: return "read-only";
  }
  return "unknown";
}

Result<SrvrInfo> parse_srvr(std::string_view reply) {
  SrvrInfo info;
  if (reply.find("not currently serving requests") != std::string_view::npos) return info;

  auto bad = [&](const std::string& what) {
    return make_error(ErrorKind::Unhealthy, "srvr reply " + what + ": " + excerpt(reply));
  };
  bool have_mode = false, have_zxid = false, have_count = false;
  size_t start = 0;
  while (start < reply.size()) {
    size_t end = reply.find('\n', start);
    if (end == std::string_view::npos) end = reply.size();
    std::string_view line = reply.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    start = end + 1;
    if (auto mode = value_after(line, "Mode: ")) {
      auto parsed = parse_mode(*mode);
      if (!parsed) return bad("has an unknown Mode \"" + std::string(*mode) + "\"");
      info.mode = *parsed;
      have_mode = true;
    } else if (auto zxid = value_after(line, "Zxid: 0x")) {
      uint64_t z = 0;
      if (!parse_whole(*zxid, z, 16)) return bad("has an unreadable Zxid");
      info.zxid = static_cast<int64_t>(z);
      have_zxid = true;
    } else if (auto count = value_after(line, "Node count: ")) {
      if (!parse_whole(*count, info.node_count, 10)) return bad("has an unreadable Node count");
      have_count = true;
    }
  }
  if (!have_mode || !have_zxid || !have_count) return bad("lacks Mode, Zxid or Node count");
  info.serving = true;
  return info;
}

Result<SrvrInfo> srvr(const std::string& host, int port, std::chrono::milliseconds timeout) {
  auto reply = four_letter_word(host, port, "srvr", timeout);
  if (!reply) return reply.error();
  auto info = parse_srvr(*reply);
  if (!info) {
    return make_error(ErrorKind::Unhealthy, host_port(host, port) + ": " + info.error().message);
  }
  return info;
}

}  // namespace zktool::health
