#include "systemd/console_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zktool::testsupport {

namespace {

Error capture_error(const std::string& what) {
  return make_error(ErrorKind::Io, "console capture: " + what + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<ConsoleCapture>> ConsoleCapture::open(const std::filesystem::path& file) {
  int master = -1;
  int slave = -1;
  int out = -1;
  auto fail = [&](const std::string& what) -> Error {
    auto error = capture_error(what);
    for (int fd : {master, slave, out}) {
      if (fd >= 0) ::close(fd);
    }
    return error;
  };
  master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return fail("posix_openpt");
  char name[64];
  if (::grantpt(master) != 0 || ::unlockpt(master) != 0 ||
      ::ptsname_r(master, name, sizeof name) != 0) {
    return fail("preparing the terminal");
  }
  slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return fail(std::string("opening ") + name);
  // Raw: lines arrive as written, without "\r\n" translation.
  termios mode{};
  if (::tcgetattr(slave, &mode) != 0) return fail("tcgetattr");
  ::cfmakeraw(&mode);
  if (::tcsetattr(slave, TCSANOW, &mode) != 0) return fail("tcsetattr");
  out = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return fail("creating " + file.string());
  return std::unique_ptr<ConsoleCapture>(new ConsoleCapture(master, slave, out, name));
}

ConsoleCapture::ConsoleCapture(int master, int slave, int file, std::string terminal)
    : master_(master), slave_(slave), file_(file), terminal_(std::move(terminal)) {
  copier_ = std::thread([this] { copy(); });
}

ConsoleCapture::~ConsoleCapture() {
  stopping_ = true;
  copier_.join();
  ::close(file_);
  ::close(slave_);
  ::close(master_);
}

void ConsoleCapture::copy() {
  char buffer[4096];
  for (;;) {
    pollfd ready{master_, POLLIN, 0};
    const int r = ::poll(&ready, 1, 50);
    if (r < 0 && errno != EINTR) return;
    if (r <= 0) {
      if (stopping_) return;  // nothing left to copy
      continue;
    }
    const ssize_t n = ::read(master_, buffer, sizeof buffer);
    if (n <= 0) return;
    if (::write(file_, buffer, static_cast<size_t>(n)) != n) return;
  }
}

}  // namespace zktool::testsupport
