#include "support/ports.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace zktool::testsupport {

namespace {

// Below Linux's default ephemeral range (32768-60999).
constexpr int kFirstPort = 20000;
constexpr int kLastPort = 32700;

// `host_index` 0 is 127.0.0.1, 1 is 127.0.0.2, ...
bool port_is_free(int port, int host_index) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK + static_cast<uint32_t>(host_index));
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return free;
}

}  // namespace

Result<int> pick_base_port(int ports_needed, int hosts) {
  const int blocks = (kLastPort - kFirstPort) / ports_needed;
  // Each call in a process moves on, so two servers in one test binary get
  // different blocks even before the first one binds its ports.
  static std::atomic<unsigned> calls{0};
  int start = static_cast<int>((static_cast<unsigned>(::getpid()) * 7919u + calls++ * 104729u) %
                               static_cast<unsigned>(blocks));
  for (int i = 0; i < blocks; ++i) {
    int base = kFirstPort + ((start + i) % blocks) * ports_needed;
    bool all_free = true;
    for (int h = 0; h < hosts && all_free; ++h) {
      for (int p = base; p < base + ports_needed && all_free; ++p) all_free = port_is_free(p, h);
    }
    if (all_free) return base;
  }
  return make_error(ErrorKind::Io, "no block of " + std::to_string(ports_needed) +
                                       " free ports on 127.0.0.1 between " +
                                       std::to_string(kFirstPort) + " and " +
                                       std::to_string(kLastPort));
}

}  // namespace zktool::testsupport
