// Where zk-tool's messages go (src/cli/logging.h): the journal is chosen only when
// JOURNAL_STREAM names stderr itself, and a journal that cannot be reached
// never swallows a failure's one line.
#include "cli/logging.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/files.h"
#include "support/process.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;

std::string dev_ino(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

class JournalStream : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = ::open((dir_.path() / "a").c_str(), O_CREAT | O_WRONLY, 0600);
    other_ = ::open((dir_.path() / "b").c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd_, 0);
    ASSERT_GE(other_, 0);
  }
  void TearDown() override {
    ::close(fd_);
    ::close(other_);
  }
  testing::TempDir dir_;
  int fd_ = -1;
  int other_ = -1;
};

TEST_F(JournalStream, MatchesOnlyTheFileItNames) {
  EXPECT_TRUE(fd_is_journal_stream(fd_, dev_ino(fd_).c_str()));
  EXPECT_FALSE(fd_is_journal_stream(other_, dev_ino(fd_).c_str()));
  EXPECT_FALSE(fd_is_journal_stream(fd_, nullptr));
}

TEST_F(JournalStream, RejectsMalformedValues) {
  const std::string good = dev_ino(fd_);
  for (const std::string& bad : {std::string(), good.substr(0, good.find(':')), good + "x",
                                 good + ":1", "x" + good, std::string(":")}) {
    EXPECT_FALSE(fd_is_journal_stream(fd_, bad.c_str())) << "'" << bad << "'";
  }
}

// zk-tool run by /bin/sh with stderr in `err` and JOURNAL_STREAM naming it
// when `journal` is set, as systemd does for StandardError=journal.
testsupport::CapturedRun run_with_stderr(const fs::path& err, bool journal,
                                         const std::string& args) {
  std::string script = "exec 2>'" + err.string() + "'; ";
  if (journal) script += "JOURNAL_STREAM=$(stat -c %d:%i '" + err.string() + "') ";
  script += "exec " ZKTOOL_BINARY " " + args;
  return testsupport::run_captured({"/bin/sh", "-c", script});
}

// The failure's one line, naming the file involved.
void expect_failure_line(const std::string& err, const fs::path& file) {
  EXPECT_EQ(err.rfind("zk-tool verify: ", 0), 0u) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
  EXPECT_NE(err.find(file.string()), std::string::npos) << err;
}

TEST(LogResult, FailureIsOneLineOnStderrOutsideTheJournal) {
  testing::TempDir dir;
  fs::path missing = dir.path() / "missing.tar.zst";
  auto run = run_with_stderr(dir.path() / "err", false, "verify " + missing.string());
  EXPECT_EQ(run.exit_code, 4) << run.err;
  expect_failure_line(testing::read_file(dir.path() / "err"), missing);
}

TEST(LogResult, UnreachableJournalFallsBackToStderr) {
  if (fs::exists("/run/systemd/journal/socket")) {
    GTEST_SKIP() << "journald runs here; this test needs a journal that cannot be reached";
  }
  testing::TempDir dir;
  fs::path missing = dir.path() / "missing.tar.zst";
  auto run = run_with_stderr(dir.path() / "err", true, "verify " + missing.string());
  EXPECT_EQ(run.exit_code, 4) << run.err;
  expect_failure_line(testing::read_file(dir.path() / "err"), missing);
}

TEST(LogResult, SuccessPrintsNothingOnStderr) {
  testing::TempDir dir;
  auto run = run_with_stderr(dir.path() / "err", false,
                             "inspect " ZKTOOL_TEST_DATA_DIR "/zk38/data --data-log-dir "
                             ZKTOOL_TEST_DATA_DIR "/zk38/logs");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(testing::read_file(dir.path() / "err"), "");
}

}  // namespace
}  // namespace zktool
