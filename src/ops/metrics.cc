#include "ops/metrics.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "util/file_ops.h"

namespace zktool {

namespace {

constexpr std::string_view kLastSuccess = "zktool_backup_last_success_timestamp_seconds";
constexpr std::string_view kLastDuration = "zktool_backup_last_duration_seconds";
constexpr std::string_view kLastSize = "zktool_backup_last_size_bytes";
constexpr std::string_view kLastZxid = "zktool_backup_last_zxid";
constexpr std::string_view kFailures = "zktool_backup_consecutive_failures";
constexpr std::string_view kLastAttempt = "zktool_backup_last_attempt_timestamp_seconds";

void add_gauge(std::string& out, std::string_view name, std::string_view help,
               const std::string& value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" gauge\n");
  out.append(name).append(" ").append(value).append("\n");
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

BackupMetrics next_metrics(const BackupMetrics& previous, const BackupAttempt& attempt) {
  BackupMetrics next = previous;
  next.last_attempt_timestamp = attempt.started.time_since_epoch().count();
  if (!attempt.succeeded) {
    ++next.consecutive_failures;
    return next;
  }
  next.last_success_timestamp = next.last_attempt_timestamp;
  next.last_duration_seconds = attempt.duration.count();
  next.last_size_bytes = attempt.size_bytes;
  next.last_zxid = attempt.last_zxid;
  next.consecutive_failures = 0;
  return next;
}

std::string format_metrics(const BackupMetrics& m) {
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f", m.last_duration_seconds);
  std::string out;
  add_gauge(out, kLastSuccess, "When the last successful backup started, in Unix seconds.",
            std::to_string(m.last_success_timestamp));
  add_gauge(out, kLastDuration, "How long the last successful backup took.", duration);
  add_gauge(out, kLastSize, "Size of the last successful backup's archive.",
            std::to_string(m.last_size_bytes));
  add_gauge(out, kLastZxid, "The last ZooKeeper zxid the last successful backup holds.",
            std::to_string(m.last_zxid));
  add_gauge(out, kFailures, "Backup attempts that failed since the last success.",
            std::to_string(m.consecutive_failures));
  add_gauge(out, kLastAttempt, "When the last backup attempt started, in Unix seconds.",
            std::to_string(m.last_attempt_timestamp));
  return out;
}

Result<BackupMetrics> parse_metrics(std::string_view text, const std::filesystem::path& file) {
  BackupMetrics m;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_number;
    size_t space = line.find(' ');
    if (line.starts_with('#') || space == std::string_view::npos) continue;
    std::string_view name = line.substr(0, space), value = line.substr(space + 1);
    bool parsed = true;
    if (name == kLastSuccess) {
      parsed = parse_number(value, m.last_success_timestamp);
    } else if (name == kLastDuration) {
      parsed = parse_number(value, m.last_duration_seconds);
    } else if (name == kLastSize) {
      parsed = parse_number(value, m.last_size_bytes);
    } else if (name == kLastZxid) {
      parsed = parse_number(value, m.last_zxid);
    } else if (name == kFailures) {
      parsed = parse_number(value, m.consecutive_failures);
    } else if (name == kLastAttempt) {
      parsed = parse_number(value, m.last_attempt_timestamp);
    }
    if (!parsed) {
      return make_error(ErrorKind::Corrupt, file.string() + " line " + std::to_string(line_number) +
                                                ": " + std::string(name) + " has value \"" +
                                                std::string(value) + "\"");
    }
  }
  return m;
}

Result<std::string> record_backup_attempt(const std::filesystem::path& file,
                                          const BackupAttempt& attempt) {
  BackupMetrics previous;
  std::string warning;
  std::error_code ec;
  const bool exists = std::filesystem::exists(file, ec);
  if (ec) return make_error(ErrorKind::Io, file.string() + ": " + ec.message());
  if (exists) {
    std::ifstream in(file, std::ios::binary);
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof()) return make_error(ErrorKind::Io, file.string() + ": cannot read");
    auto parsed = parse_metrics(text, file);
    if (parsed) {
      previous = *parsed;
    } else {
      warning = parsed.error().message + "; starting the metrics afresh";
    }
  }
  if (Status written = write_file_atomically(file, format_metrics(next_metrics(previous, attempt)));
      !written) {
    return written.error();
  }
  return warning;
}

}  // namespace zktool
