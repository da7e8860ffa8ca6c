// The journal's code location fields would name this file, not the caller.
#define SD_JOURNAL_SUPPRESS_LOCATION

#include "cli/logging.h"

#include "util/printable.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-journal.h>

namespace zktool {

namespace {

// Where sd_journal_send() writes; it drops entries silently when the socket is
// missing, so without it stderr stays the place for messages.
constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

bool g_journal = false;
std::vector<std::pair<std::string, std::string>> g_result_fields;

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return "usage";
    case ErrorKind::Corrupt: return "corrupt";
    case ErrorKind::Io: return "io";
    case ErrorKind::ServiceControl: return "service-control";
    case ErrorKind::Unhealthy: return "unhealthy";
    case ErrorKind::Unsafe: return "unsafe";
    case ErrorKind::Locked: return "locked";
    case ErrorKind::TlsUntrusted: return "tls-untrusted";
    case ErrorKind::CredentialsRefused: return "credentials-refused";
    case ErrorKind::WrongKey: return "wrong-key";
    case ErrorKind::StoreUnavailable: return "store-unavailable";
    case ErrorKind::Internal: return "internal";
  }
  return "internal";
}

// False when journald refused the entry.
bool send_result_entry(std::string_view command, const Status& status, int exit_code) {
  std::vector<std::string> fields;
  fields.push_back("SYSLOG_IDENTIFIER=zk-tool");
  fields.push_back("MESSAGE=zk-tool " + std::string(command) + ": " +
                   (status.ok() ? std::string("ok") : status.error().message));
  fields.push_back("PRIORITY=" + std::to_string(status.ok() ? LOG_INFO : LOG_ERR));
  fields.push_back("ZKTOOL_COMMAND=" + std::string(command));
  fields.push_back(std::string("ZKTOOL_RESULT=") + (status.ok() ? "ok" : "failed"));
  fields.push_back("ZKTOOL_EXIT_CODE=" + std::to_string(exit_code));
  if (!status.ok()) {
    fields.push_back(std::string("ZKTOOL_ERROR_KIND=") + kind_name(status.error().kind));
  }
  for (const auto& [name, value] : g_result_fields) {
    fields.push_back("ZKTOOL_" + name + "=" + value);
  }
  std::vector<iovec> iov;
  for (std::string& f : fields) iov.push_back({f.data(), f.size()});
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) == 0;
}

}  // namespace

bool fd_is_journal_stream(int fd, const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  uintmax_t dev = 0;
  uintmax_t ino = 0;
  int used = 0;
  if (std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX "%n", &dev, &ino, &used) != 2 ||
      journal_stream[used] != '\0') {
    return false;
  }
  struct stat st {};
  return ::fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void setup_logging(int verbosity) {
  g_journal = fd_is_journal_stream(STDERR_FILENO, std::getenv("JOURNAL_STREAM")) &&
              ::access(kJournalSocket, F_OK) == 0;
  std::shared_ptr<spdlog::logger> logger;
  if (g_journal) {
    logger = spdlog::systemd_logger_st("zk-tool", "zk-tool");
  } else {
    logger = spdlog::stderr_color_st("zk-tool");
    logger->set_pattern("%^%l%$: %v");
  }
  logger->set_level(verbosity >= 2 ? spdlog::level::trace
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void add_result_field(std::string_view name, std::string value) {
  for (auto& [n, v] : g_result_fields) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  g_result_fields.emplace_back(std::string(name), std::move(value));
}

void log_result(std::string_view command, const Status& status, int exit_code) {
  if (g_journal && send_result_entry(command, status, exit_code)) return;
  if (!status.ok()) {
    std::fprintf(stderr, "zk-tool %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 printable(status.error().message).c_str());
  }
}

}  // namespace zktool
