#include "ops/metrics.h"

#include <gtest/gtest.h>

#include "../support/files.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

constexpr const char* kGauges[] = {"zktool_backup_last_success_timestamp_seconds",
                                   "zktool_backup_last_duration_seconds",
                                   "zktool_backup_last_size_bytes",
                                   "zktool_backup_last_zxid",
                                   "zktool_backup_consecutive_failures",
                                   "zktool_backup_last_attempt_timestamp_seconds"};

const std::chrono::sys_seconds kT0{std::chrono::seconds{1'800'000'000}};

BackupAttempt success(std::chrono::sys_seconds at, uint64_t size, int64_t zxid) {
  BackupAttempt a;
  a.started = at;
  a.succeeded = true;
  a.duration = 2.5s;
  a.size_bytes = size;
  a.last_zxid = zxid;
  return a;
}

BackupAttempt failure(std::chrono::sys_seconds at) {
  BackupAttempt a;
  a.started = at;
  return a;
}

// The value on the sample line of `gauge` in exposition `text`.
std::string sample(const std::string& text, const std::string& gauge) {
  size_t at = text.find("\n" + gauge + " ");
  if (at == std::string::npos) return "<missing>";
  at += gauge.size() + 2;
  return text.substr(at, text.find('\n', at) - at);
}

TEST(Metrics, EveryGaugeHasHelpTypeAndASample) {
  std::string text = format_metrics(next_metrics({}, success(kT0, 1234, 0x100000f66)));
  for (const std::string gauge : kGauges) {
    EXPECT_NE(text.find("# HELP " + gauge + " "), std::string::npos) << gauge;
    EXPECT_NE(text.find("# TYPE " + gauge + " gauge\n"), std::string::npos) << gauge;
  }
  EXPECT_EQ(sample(text, "zktool_backup_last_success_timestamp_seconds"), "1800000000");
  EXPECT_EQ(sample(text, "zktool_backup_last_duration_seconds"), "2.500");
  EXPECT_EQ(sample(text, "zktool_backup_last_size_bytes"), "1234");
  EXPECT_EQ(sample(text, "zktool_backup_last_zxid"), std::to_string(0x100000f66));
  EXPECT_EQ(sample(text, "zktool_backup_consecutive_failures"), "0");
  EXPECT_EQ(sample(text, "zktool_backup_last_attempt_timestamp_seconds"), "1800000000");
}

TEST(Metrics, ParseReadsBackWhatFormatWrote) {
  BackupMetrics m = next_metrics(next_metrics({}, success(kT0, 99, 7)), failure(kT0 + 1h));
  auto parsed = parse_metrics(format_metrics(m), "m.prom");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, m);
}

TEST(Metrics, AMalformedValueIsCorruptNamingTheLine) {
  auto parsed = parse_metrics("# HELP x\nzktool_backup_consecutive_failures lots\n", "m.prom");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(parsed.error().message.find("m.prom line 2"), std::string::npos);
}

TEST(Metrics, FailuresCountUpKeepingTheLastSuccessAndASuccessResetsThem) {
  TempDir dir;
  fs::path file = dir.path() / "zk-tool.prom";
  ASSERT_TRUE(record_backup_attempt(file, success(kT0, 5000, 0x200000001)));
  for (int i = 1; i <= 3; ++i) {
    auto recorded = record_backup_attempt(file, failure(kT0 + std::chrono::hours(i)));
    ASSERT_TRUE(recorded) << recorded.error().message;
    EXPECT_TRUE(recorded->empty());
    std::string text = read_file(file);
    EXPECT_EQ(sample(text, "zktool_backup_consecutive_failures"), std::to_string(i));
    EXPECT_EQ(sample(text, "zktool_backup_last_attempt_timestamp_seconds"),
              std::to_string(1'800'000'000 + 3600 * i));
    EXPECT_EQ(sample(text, "zktool_backup_last_success_timestamp_seconds"), "1800000000");
    EXPECT_EQ(sample(text, "zktool_backup_last_size_bytes"), "5000");
    EXPECT_EQ(sample(text, "zktool_backup_last_zxid"), std::to_string(0x200000001));
  }
  ASSERT_TRUE(record_backup_attempt(file, success(kT0 + 4h, 6000, 0x200000009)));
  std::string text = read_file(file);
  EXPECT_EQ(sample(text, "zktool_backup_consecutive_failures"), "0");
  EXPECT_EQ(sample(text, "zktool_backup_last_success_timestamp_seconds"),
            std::to_string(1'800'000'000 + 4 * 3600));
  EXPECT_EQ(sample(text, "zktool_backup_last_size_bytes"), "6000");
  // Written atomically: nothing but the file itself is left in the directory.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(Metrics, AFirstAttemptThatFailsLeavesSuccessValuesAtZero) {
  TempDir dir;
  fs::path file = dir.path() / "zk-tool.prom";
  ASSERT_TRUE(record_backup_attempt(file, failure(kT0)));
  std::string text = read_file(file);
  EXPECT_EQ(sample(text, "zktool_backup_consecutive_failures"), "1");
  EXPECT_EQ(sample(text, "zktool_backup_last_success_timestamp_seconds"), "0");
}

TEST(Metrics, AnUnparsablePreviousFileIsStartedAfreshWithAWarning) {
  TempDir dir;
  fs::path file = dir.path() / "zk-tool.prom";
  write_file(file, "zktool_backup_consecutive_failures NaN-ish\n");
  auto recorded = record_backup_attempt(file, failure(kT0));
  ASSERT_TRUE(recorded);
  EXPECT_NE(recorded->find("afresh"), std::string::npos);
  EXPECT_EQ(sample(read_file(file), "zktool_backup_consecutive_failures"), "1");
}

TEST(Metrics, AnUnwritableLocationIsAnIoError) {
  TempDir dir;
  auto recorded = record_backup_attempt(dir.path() / "missing" / "zk-tool.prom", failure(kT0));
  ASSERT_FALSE(recorded);
  EXPECT_EQ(recorded.error().kind, ErrorKind::Io);
}

}  // namespace
}  // namespace zktool
