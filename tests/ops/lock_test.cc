#include "ops/lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "../snapshot/fixtures.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

TEST(DirectoryLock, ASecondRunIsRefusedAndToldWhoHoldsIt) {
  ScratchDir dir;
  auto first = DirectoryLock::acquire(dir.path(), "restore");
  ASSERT_TRUE(first) << first.error().message;
  // flock locks belong to the open file description: a second open in this
  // process conflicts just as another process would.
  auto second = DirectoryLock::acquire(dir.path(), "backup");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorKind::Locked);
  EXPECT_NE(second.error().message.find("pid=" + std::to_string(::getpid())), std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find("command=restore"), std::string::npos);
}

TEST(DirectoryLock, IsFreeAgainOnceReleased) {
  ScratchDir dir;
  { auto first = DirectoryLock::acquire(dir.path(), "restore"); ASSERT_TRUE(first); }
  auto again = DirectoryLock::acquire(dir.path(), "restore");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->stale_holder()) << "a clean release leaves no record";
}

TEST(DirectoryLock, ALockLeftByAKilledRunIsRecognisedAsStale) {
  ScratchDir dir;
  pid_t child = ::fork();
  if (child == 0) {
    auto lock = DirectoryLock::acquire(dir.path(), "restore");
    ::kill(::getpid(), SIGKILL);  // dies holding it, as a killed run would
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto lock = DirectoryLock::acquire(dir.path(), "restore");
  ASSERT_TRUE(lock) << lock.error().message;
  ASSERT_TRUE(lock->stale_holder());
  EXPECT_NE(lock->stale_holder()->find("pid=" + std::to_string(child)), std::string::npos);
}

TEST(DirectoryLock, AnUnwritableDirectoryIsAnIoError) {
  auto lock = DirectoryLock::acquire("/nonexistent/dir", "backup");
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().kind, ErrorKind::Io);
}

// The data directory's owner (nobody) swaps the record for a link to a file
// only root may write, then deletes it while a run holds the lock, hoping the
// next run takes a fresh lock: neither works, since the lock is the
// directory's and the record is only ever replaced.
TEST(DirectoryLock, TheDirectorysOwnerCanNeitherRedirectTheRecordNorSplitTheLock) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: plays the directory's owner as nobody";
  ScratchDir scratch;
  fs::permissions(scratch.path(), fs::perms(0755));
  const fs::path dir = scratch.path() / "data", secret = scratch.path() / "root-only";
  fs::create_directory(dir);
  ASSERT_EQ(std::system(("chown nobody: " + dir.string()).c_str()), 0);
  {
    std::ofstream(secret) << "root's secret";
  }
  fs::permissions(secret, fs::perms(0600));
  auto as_nobody = [&](const std::string& script) {
    return std::system(("cd " + dir.string() + " && /usr/sbin/runuser -u nobody -- sh -c '" +
                        script + "'")
                           .c_str());
  };
  ASSERT_EQ(as_nobody("ln -s " + secret.string() + " .zk-tool.lock"), 0);
  {
    auto first = DirectoryLock::acquire(dir, "restore");
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_FALSE(first->stale_holder()) << "a link is no record";
    EXPECT_FALSE(fs::is_symlink(dir / ".zk-tool.lock"));
    ASSERT_EQ(as_nobody("rm -f .zk-tool.lock"), 0);
    auto second = DirectoryLock::acquire(dir, "backup");
    ASSERT_FALSE(second) << "the lock must not follow its record";
    EXPECT_EQ(second.error().kind, ErrorKind::Locked);
  }
  std::ifstream in(secret);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "root's secret");
  EXPECT_EQ(fs::status(secret).permissions(), fs::perms(0600));
  EXPECT_TRUE(DirectoryLock::acquire(dir, "backup")) << "free once the holder is gone";
}

}  // namespace
}  // namespace zktool
