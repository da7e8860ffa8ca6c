#include "bench_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>

extern char** environ;

namespace zktool::bench {

namespace {

namespace fs = std::filesystem;

constexpr const char* kTime = "/usr/bin/time";

// GNU time's report file, removed when done.
class RssFile {
 public:
  RssFile() {
    std::string pattern = (fs::temp_directory_path() / "bench-peak-rss.XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd >= 0) {
      ::close(fd);
      path_ = pattern;
    }
  }
  ~RssFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  RssFile(const RssFile&) = delete;
  RssFile& operator=(const RssFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

Result<ChildRun> run_child(const std::vector<std::string>& argv, const fs::path& log) {
  const std::string command = argv.at(0) + (argv.size() > 1 ? " " + argv[1] : "");
  RssFile rss_file;
  if (rss_file.path().empty()) {
    return make_error(ErrorKind::Io, "cannot create a file for " + command + "'s peak RSS in " +
                                         fs::temp_directory_path().string());
  }
  std::vector<std::string> timed = {kTime, "-f", "%M", "-o", rss_file.path()};
  timed.insert(timed.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (const std::string& a : timed) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return make_error(ErrorKind::Io, "cannot run " + command + " under " + kTime + ": " +
                                         std::strerror(spawned));
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    return make_error(ErrorKind::Internal, "waitpid on " + command + " failed");
  }
  ChildRun run;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error(ErrorKind::Internal, command + " failed (wait status " +
                                               std::to_string(status) + "); see " + log.string());
  }
  std::ifstream rss(rss_file.path());
  long rss_kib = 0;
  if (!(rss >> rss_kib)) {
    return make_error(ErrorKind::Internal, kTime + std::string(" left no peak RSS for ") + command +
                                               " in " + rss_file.path());
  }
  run.max_rss_mib = static_cast<double>(rss_kib) / 1024;
  return run;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace zktool::bench
