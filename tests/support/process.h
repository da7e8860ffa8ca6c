// Child processes for the test environment: servers that run in their own
// session with their output appended to a log file, and tools run to
// completion with their output collected or read line by line. argv[0] must
// be an absolute path (nothing is looked up on PATH between fork and exec).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace zktool::testsupport {

struct ServerSpawn {
  std::vector<std::string> argv;
  std::filesystem::path output_file;  // stdout and stderr are appended here
  // Kill the server (SIGKILL) when the thread that spawned it exits, so a
  // crashed test leaves nothing behind. Off for servers meant to outlive us.
  bool die_with_parent = true;
};

// Starts a server in a new session (so its own process group) and returns its
// pid once exec has succeeded.
Result<pid_t> spawn_server(const ServerSpawn& spawn);

// SIGTERM, then SIGKILL once `grace` has passed; returns when the process is
// gone. Reaps our own children; polls processes started by an earlier run.
Status terminate_process(pid_t pid, std::chrono::milliseconds grace);

// True while `pid` runs with `arg` among its arguments: acting on a pid that a
// previous run recorded is only safe once this rules out pid reuse.
bool process_running_with_arg(pid_t pid, std::string_view arg);

// For a child of ours that has exited: reaps it and says how it ended.
std::optional<std::string> reap_if_exited(pid_t pid);

// A tool to run to completion.
struct RunSpec {
  std::vector<std::string> argv;
  // Changes to our environment for the tool: a value sets the variable,
  // nullopt removes it.
  std::map<std::string, std::optional<std::string>> environment{};
  // SIGKILLs the tool once this has passed since it started, unless it has
  // exited by then.
  std::optional<std::chrono::milliseconds> kill_after{};
  // Takes each stdout line (without its newline) as it arrives, instead of
  // CapturedRun::out collecting them.
  std::function<void(std::string_view)> on_line{};
};

struct CapturedRun {
  // 128 + signal number when killed; -1: the tool could not be started (the
  // reason is in err).
  int exit_code = -1;
  pid_t pid = -1;  // the tool's, once started
  std::string out;
  std::string err;
};

// Runs a tool to completion (stdin is /dev/null) and collects what it printed.
// Every test and harness runs its tools through here.
CapturedRun run_captured(const RunSpec& spec);
CapturedRun run_captured(std::vector<std::string> argv);

}  // namespace zktool::testsupport
