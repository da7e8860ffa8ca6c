// Internal to the user-manager fixture: a pseudo-terminal whose output is
// copied into a file. systemd --user logs to /dev/console whatever its
// stderr, and only if that is a terminal; the fixture binds this terminal
// over /dev/console inside the manager's mount namespace, so the log lands
// in the test's directory instead of on the machine's console.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "util/result.h"

namespace zktool::testsupport {

class ConsoleCapture {
 public:
  // Opens the terminal and starts copying (one thread) into `file`.
  static Result<std::unique_ptr<ConsoleCapture>> open(const std::filesystem::path& file);
  // Copies what is still buffered, then closes the terminal.
  ~ConsoleCapture();
  ConsoleCapture(const ConsoleCapture&) = delete;
  ConsoleCapture& operator=(const ConsoleCapture&) = delete;

  // The terminal's device (/dev/pts/N), to bind over /dev/console.
  const std::string& terminal() const { return terminal_; }

 private:
  ConsoleCapture(int master, int slave, int file, std::string terminal);
  void copy();

  int master_;
  int slave_;  // kept open: with no slave open, reading the master fails
  int file_;
  std::string terminal_;
  std::atomic<bool> stopping_{false};
  std::thread copier_;
};

}  // namespace zktool::testsupport
