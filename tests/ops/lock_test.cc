#include "lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "../snapshot/fixtures.h"

namespace zktool {
namespace {

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

}  // namespace
}  // namespace zktool
