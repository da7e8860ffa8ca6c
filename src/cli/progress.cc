#include "cli/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

namespace zktool {

std::function<void(uint64_t, uint64_t)> terminal_progress(std::string label) {
  if (::isatty(STDERR_FILENO) != 1) return {};
  using Clock = std::chrono::steady_clock;
  auto last = std::make_shared<Clock::time_point>();
  return [label = std::move(label), last](uint64_t done, uint64_t total) {
    const bool finished = done >= total;
    const auto now = Clock::now();
    if (!finished && now - *last < std::chrono::milliseconds(100)) return;
    *last = now;
    constexpr double kMiB = 1024.0 * 1024.0;
    std::fprintf(stderr, "\r%s %3.0f%% (%.0f of %.0f MiB)%s", label.c_str(),
                 total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
                 static_cast<double>(done) / kMiB, static_cast<double>(total) / kMiB,
                 finished ? "\n" : "");
  };
}

}  // namespace zktool
