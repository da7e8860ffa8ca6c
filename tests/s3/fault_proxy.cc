#include "s3/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

namespace zktool::testsupport {

namespace {

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<FaultProxy>> FaultProxy::start(int upstream_port, FaultPlan plan) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    const int err = errno;
    ::close(fd);
    return make_error(ErrorKind::Io, std::string("fault proxy: ") + std::strerror(err));
  }
  std::unique_ptr<FaultProxy> proxy(new FaultProxy(fd, ntohs(addr.sin_port), upstream_port, plan));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->accept_loop(); });
  return proxy;
}

FaultProxy::FaultProxy(int listener, int port, int upstream_port, FaultPlan plan)
    : listener_(listener), port_(port), upstream_port_(upstream_port), plan_(plan) {}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(fds_mutex_);
    for (int fd : open_fds_) {
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);  // wakes the workers
    }
  }
  for (std::thread& t : workers_) t.join();
  for (int fd : open_fds_) {
    if (fd >= 0) ::close(fd);
  }
  ::close(listener_);
}

void FaultProxy::accept_loop() {
  while (!stopping_) {
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    const int number = connections_++;
    {
      std::lock_guard<std::mutex> lock(fds_mutex_);
      open_fds_.push_back(client);
    }
    workers_.emplace_back([this, client, number] { serve(client, number); });
  }
}

void FaultProxy::serve(int client, int number) {
  const bool faulty = plan_.faulty < 0 || number < plan_.faulty;
  if (faulty && plan_.fault == Fault::kSlowDown) {
    static const std::string kBody =
        "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Slow down</Message></Error>";
    static const std::string kReply = "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                                      "Content-Length: " + std::to_string(kBody.size()) +
                                      "\r\nConnection: close\r\n\r\n" + kBody;
    char drain[4096];
    (void)::recv(client, drain, sizeof(drain), 0);  // the request's start, unread beyond
    send_all(client, kReply.data(), kReply.size());
    ::shutdown(client, SHUT_RDWR);
    return;
  }
  if (faulty && plan_.fault == Fault::kStall) {
    char drain[4096];
    while (!stopping_ && ::recv(client, drain, sizeof(drain), 0) > 0) {
    }
    return;
  }
  int upstream = connect_to(upstream_port_);
  if (upstream < 0) {
    ::shutdown(client, SHUT_RDWR);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(fds_mutex_);
    open_fds_.push_back(upstream);
  }
  uint64_t from_client = 0;
  char buffer[16384];
  pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
  while (!stopping_) {
    if (::poll(fds, 2, 200) < 0) break;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      size_t want = sizeof(buffer);
      if (i == 0 && faulty && plan_.fault == Fault::kCut) {
        want = static_cast<size_t>(std::min<uint64_t>(want, plan_.cut_after - from_client));
      }
      ssize_t n = want == 0 ? 0 : ::recv(fds[i].fd, buffer, want, 0);
      if (n <= 0 || !send_all(fds[1 - i].fd, buffer, static_cast<size_t>(n))) {
        closed = true;
        break;
      }
      if (i == 0) from_client += static_cast<uint64_t>(n);
      if (i == 0 && faulty && plan_.fault == Fault::kCut && from_client >= plan_.cut_after) {
        closed = true;  // the connection dies mid-request
      }
    }
    if (closed) break;
  }
  if (faulty && plan_.fault == Fault::kCut) {
    // As a dropped connection looks to the client: a reset, unread data and all.
    linger now{1, 0};
    ::setsockopt(client, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
    std::lock_guard<std::mutex> lock(fds_mutex_);
    std::replace(open_fds_.begin(), open_fds_.end(), client, -1);
    ::close(client);
  } else {
    ::shutdown(client, SHUT_RDWR);
  }
  ::shutdown(upstream, SHUT_RDWR);
}

}  // namespace zktool::testsupport
