#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "util/unique_fd.h"

extern char** environ;

namespace zktool::testsupport {

namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int err) { return std::strerror(err); }

Status make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return make_error(ErrorKind::Io, "pipe: " + errno_text(errno));
  }
  read_end = UniqueFd(fds[0]);
  write_end = UniqueFd(fds[1]);
  return Ok{};
}

// argv (or an environment) as exec wants it; built before fork because the
// child may not allocate.
std::vector<char*> exec_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Our environment with `changes` applied: a value sets a variable, nullopt
// removes it.
std::vector<std::string> tool_environment(
    const std::map<std::string, std::optional<std::string>>& changes) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (!changes.contains(std::string(entry.substr(0, entry.find('='))))) env.emplace_back(entry);
  }
  for (const auto& [name, value] : changes) {
    if (value) env.push_back(name + "=" + *value);
  }
  return env;
}

// In the child, between fork and exec: only async-signal-safe calls. A parent
// that ignores or blocks SIGTERM must not pass that on, or servers would
// ignore our stop requests. Descriptors the parent opened without O_CLOEXEC
// (the ZooKeeper C client's sockets) must not leak either: a server holding a
// copy of a client's socket would keep that connection open after the client
// closed it.
void prepare_child() {
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
}

[[noreturn]] void exec_or_report(char* const* argv, char* const* envp, int report_fd) {
  ::execve(argv[0], argv, envp);
  int err = errno;
  ssize_t ignored = ::write(report_fd, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

// Reads the errno a child reports when exec fails; end of file means exec succeeded.
std::optional<int> exec_failure(int report_fd) {
  int err = 0;
  ssize_t n;
  do {
    n = ::read(report_fd, &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof err)) return err;
  return std::nullopt;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// /proc/PID/stat's state letter, or nullopt when the process does not exist.
std::optional<char> proc_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return std::nullopt;
  // The command name is in parentheses and may contain anything, so the
  // state is the first field after the last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return std::nullopt;
  return text[close + 2];
}

bool process_gone(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return true;
  if (r == 0) return false;
  // Not our child (started by an earlier run): gone once it has no /proc entry
  // or is a zombie waiting for whoever adopted it.
  auto state = proc_state(pid);
  return !state || *state == 'Z' || *state == 'X';
}

bool wait_until_gone(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!process_gone(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// The body of run_captured(): fills `run` as the tool runs; an error means the
// tool could not be run to completion.
Status run_to_completion(const RunSpec& spec, CapturedRun& run) {
  const std::vector<std::string>& argv = spec.argv;
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return make_error(ErrorKind::Internal, "run_captured: argv[0] must be an absolute path");
  }
  UniqueFd out_read, out_write, err_read, err_write, report_read, report_write;
  if (auto st = make_pipe(out_read, out_write); !st) return st.error();
  if (auto st = make_pipe(err_read, err_write); !st) return st.error();
  if (auto st = make_pipe(report_read, report_write); !st) return st.error();
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_in.get() < 0) return make_error(ErrorKind::Io, "/dev/null: " + errno_text(errno));

  const std::vector<std::string> env = tool_environment(spec.environment);
  auto cargv = exec_argv(argv);
  auto cenv = exec_argv(env);
  const auto started = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return make_error(ErrorKind::Io, "fork: " + errno_text(errno));
  if (pid == 0) {
    prepare_child();
    ::dup2(null_in.get(), STDIN_FILENO);
    ::dup2(out_write.get(), STDOUT_FILENO);
    ::dup2(err_write.get(), STDERR_FILENO);
    exec_or_report(cargv.data(), cenv.data(), report_write.get());
  }
  out_write.reset();
  err_write.reset();
  report_write.reset();
  if (auto err = exec_failure(report_read.get())) {
    ::waitpid(pid, nullptr, 0);
    return make_error(ErrorKind::Io, "exec " + argv[0] + ": " + errno_text(*err));
  }
  run.pid = pid;

  constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point kill_at = spec.kill_after ? started + *spec.kill_after : kNever;
  // SIGKILLs the tool once it is due; until then, the milliseconds left (-1: no kill due).
  auto kill_when_due = [&]() -> int {
    if (kill_at == kNever) return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(kill_at - Clock::now());
    if (left.count() > 0) return static_cast<int>(left.count());
    ::kill(pid, SIGKILL);
    kill_at = kNever;
    return -1;
  };

  std::string pending;  // stdout bytes after the last newline, for on_line
  pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  int open_streams = 2;
  char buf[65536];
  while (open_streams > 0) {
    if (::poll(fds, 2, kill_when_due()) < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorKind::Io, "poll: " + errno_text(errno));
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open_streams;
        continue;
      }
      if (i == 1) {
        run.err.append(buf, static_cast<size_t>(n));
      } else if (!spec.on_line) {
        run.out.append(buf, static_cast<size_t>(n));
      } else {
        pending.append(buf, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
          spec.on_line(std::string_view(pending).substr(start, nl - start));
        }
        pending.erase(0, start);
      }
    }
  }
  if (!pending.empty()) spec.on_line(pending);

  // A tool may close its output and still run: a kill due is still due.
  int status = 0;
  for (;;) {
    const pid_t waited = ::waitpid(pid, &status, kill_at == kNever ? 0 : WNOHANG);
    if (waited == pid) break;
    if (waited < 0 && errno != EINTR) {
      return make_error(ErrorKind::Io, "waitpid: " + errno_text(errno));
    }
    if (waited == 0 && kill_when_due() >= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return Ok{};
}

}  // namespace

Result<pid_t> spawn_server(const ServerSpawn& spawn) {
  if (spawn.argv.empty() || spawn.argv[0].empty() || spawn.argv[0][0] != '/') {
    return make_error(ErrorKind::Internal, "spawn_server: argv[0] must be an absolute path");
  }
  UniqueFd out(::open(spawn.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (out.get() < 0) {
    return make_error(ErrorKind::Io, spawn.output_file.string() + ": " + errno_text(errno));
  }
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_in.get() < 0) return make_error(ErrorKind::Io, "/dev/null: " + errno_text(errno));
  UniqueFd report_read, report_write;
  if (auto st = make_pipe(report_read, report_write); !st) return st.error();

  auto argv = exec_argv(spawn.argv);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return make_error(ErrorKind::Io, "fork: " + errno_text(errno));
  if (pid == 0) {
    ::setsid();
    if (spawn.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    }
    prepare_child();
    ::dup2(null_in.get(), STDIN_FILENO);
    ::dup2(out.get(), STDOUT_FILENO);
    ::dup2(out.get(), STDERR_FILENO);
    exec_or_report(argv.data(), environ, report_write.get());
  }
  report_write.reset();
  if (auto err = exec_failure(report_read.get())) {
    ::waitpid(pid, nullptr, 0);
    return make_error(ErrorKind::Io, "exec " + spawn.argv[0] + ": " + errno_text(*err));
  }
  return pid;
}

Status terminate_process(pid_t pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return make_error(ErrorKind::Internal, "terminate_process: bad pid");
  if (::kill(pid, SIGTERM) != 0 && errno != ESRCH) {
    return make_error(ErrorKind::Io,
                      "kill -TERM " + std::to_string(pid) + ": " + errno_text(errno));
  }
  if (wait_until_gone(pid, grace)) return Ok{};
  ::kill(pid, SIGKILL);
  if (wait_until_gone(pid, std::chrono::seconds(10))) return Ok{};
  return make_error(ErrorKind::Io,
                    "process " + std::to_string(pid) + " is still running 10 s after SIGKILL");
}

bool process_running_with_arg(pid_t pid, std::string_view arg) {
  if (pid <= 0) return false;
  auto state = proc_state(pid);
  if (!state || *state == 'Z' || *state == 'X') return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string item;
  while (std::getline(in, item, '\0')) {
    if (item == arg) return true;
  }
  return false;
}

std::optional<std::string> reap_if_exited(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return std::nullopt;
  return describe_wait_status(status);
}

CapturedRun run_captured(const RunSpec& spec) {
  CapturedRun run;
  if (Status st = run_to_completion(spec, run); !st) {
    run.exit_code = -1;
    run.err = st.error().message;
  }
  return run;
}

CapturedRun run_captured(std::vector<std::string> argv) {
  return run_captured(RunSpec{std::move(argv)});
}

}  // namespace zktool::testsupport
