// Prometheus textfile metrics of scheduled backups (`backup --metrics-file`),
// for node_exporter's textfile collector. The file is rewritten atomically
// after every attempt; what carries over from one attempt to the next (the
// last success, the run of failures) is read back from the previous file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.h"

namespace zktool {

// Every gauge the file holds. Success values stay 0 until a backup succeeds.
struct BackupMetrics {
  int64_t last_success_timestamp = 0;  // Unix seconds when the last good backup started
  double last_duration_seconds = 0;    // of the last good backup
  uint64_t last_size_bytes = 0;        // of the last good backup's archive
  int64_t last_zxid = 0;               // the last zxid the last good backup holds
  uint64_t consecutive_failures = 0;   // attempts failed since the last success
  int64_t last_attempt_timestamp = 0;  // Unix seconds when the last attempt started
  bool operator==(const BackupMetrics&) const = default;
};

struct BackupAttempt {
  std::chrono::sys_seconds started;
  bool succeeded = false;
  // Success only:
  std::chrono::duration<double> duration{};
  uint64_t size_bytes = 0;
  int64_t last_zxid = 0;
};

// Pure: a success replaces every value and resets the failures; a failure
// counts one more and keeps the last success's values.
BackupMetrics next_metrics(const BackupMetrics& previous, const BackupAttempt& attempt);

// The exposition text, with # HELP and # TYPE for each gauge.
std::string format_metrics(const BackupMetrics& metrics);

// Reads what format_metrics() wrote; other lines and unknown names are
// ignored. ErrorKind::Corrupt names the line of a value that does not parse.
Result<BackupMetrics> parse_metrics(std::string_view text, const std::filesystem::path& file);

// Reads `file` (a missing file is all zeros), applies `attempt` and rewrites
// it atomically. A previous file that does not parse is started afresh: the
// value is then a warning saying so (empty otherwise).
Result<std::string> record_backup_attempt(const std::filesystem::path& file,
                                          const BackupAttempt& attempt);

}  // namespace zktool
