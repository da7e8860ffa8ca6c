// The swap behind restore, rollback and log restore (ops/directory_swap.h):
// all asides, then all renames in, under a journal that exists only while
// they run; a failure part way puts everything back; and the journal reader,
// which reads a file in a directory another user owns, trusts nothing in it.
#include "ops/directory_swap.h"

#include <gtest/gtest.h>

#include <string>

#include "../support/files.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

class DirectorySwapTest : public ::testing::Test {
 protected:
  // `<name>` holding a file "which" that says `contents`.
  fs::path make_dir(const std::string& name, const std::string& contents) {
    const fs::path dir = tmp_.path() / name;
    write_file(dir / "which", contents);
    return dir;
  }
  fs::path journal() const { return swap_journal_beside(tmp_.path() / "data"); }

  TempDir tmp_;
};

TEST_F(DirectorySwapTest, MovesEveryLiveDirectoryAsideThenRenamesEachReplacementIn) {
  const fs::path data = make_dir("data", "old data"), logs = make_dir("logs", "old logs");
  const fs::path new_data = make_dir("staged/data", "new data");
  const fs::path new_logs = make_dir("staged/logs", "new logs");
  auto asides = swap_directories(journal(), {{data, new_data, {}}, {logs, new_logs, {}}},
                                 "pre-restore", "test");
  ASSERT_TRUE(asides) << asides.error().message;
  ASSERT_EQ(asides->size(), 2u);
  EXPECT_EQ(read_file(data / "which"), "new data");
  EXPECT_EQ(read_file(logs / "which"), "new logs");
  EXPECT_EQ(read_file((*asides)[0] / "which"), "old data");
  EXPECT_EQ(read_file((*asides)[1] / "which"), "old logs");
  EXPECT_TRUE((*asides)[0].filename().string().starts_with("data.pre-restore-"));
  EXPECT_EQ((*asides)[0].parent_path(), tmp_.path());
  EXPECT_FALSE(fs::exists(journal())) << "the journal lives only while the renames run";
}

TEST_F(DirectorySwapTest, AMissingLiveDirectoryIsRenamedInWithNothingAside) {
  const fs::path data = tmp_.path() / "data";
  const fs::path staged = make_dir("staged/data", "new data");
  auto asides = swap_directories(journal(), {{data, staged, {}}}, "pre-restore", "test");
  ASSERT_TRUE(asides) << asides.error().message;
  EXPECT_TRUE(asides->empty());
  EXPECT_EQ(read_file(data / "which"), "new data");
}

TEST_F(DirectorySwapTest, ARenameThatFailsPartWayPutsEveryDirectoryBack) {
  const fs::path data = make_dir("data", "old data"), logs = make_dir("logs", "old logs");
  const fs::path new_data = make_dir("staged/data", "new data");
  const fs::path gone = tmp_.path() / "staged" / "logs";  // the second rename in fails
  auto asides = swap_directories(journal(), {{data, new_data, {}}, {logs, gone, {}}},
                                 "pre-restore", "test");
  ASSERT_FALSE(asides);
  EXPECT_NE(asides.error().kind, ErrorKind::Unsafe);
  EXPECT_TRUE(asides.error().message.ends_with("; every directory was put back"))
      << asides.error().message;
  EXPECT_EQ(read_file(data / "which"), "old data");
  EXPECT_EQ(read_file(logs / "which"), "old logs");
  EXPECT_EQ(read_file(new_data / "which"), "new data") << "the replacement is left staged";
  EXPECT_FALSE(fs::exists(journal()));
  for (const auto& e : fs::directory_iterator(tmp_.path())) {
    EXPECT_EQ(e.path().filename().string().find("pre-restore"), std::string::npos) << e.path();
  }
}

TEST_F(DirectorySwapTest, TheJournalNamesEachDirectoryAsItWasWritten) {
  const fs::path data = tmp_.path() / "data", logs = tmp_.path() / "logs";
  write_file(journal(), "label=pre-restore\nlive=" + data.string() + "\naside=" + data.string() +
                            ".pre-restore-20261202T131500Z\nstaged=/staging/version-2\nlive=" +
                            logs.string() + "\naside=\nstaged=/staging/logs\n");
  auto read = read_swap_journal(journal());
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_TRUE(*read);
  EXPECT_EQ((*read)->label, "pre-restore");
  ASSERT_EQ((*read)->records.size(), 2u);
  EXPECT_EQ((*read)->records[0].aside, fs::path(data.string() + ".pre-restore-20261202T131500Z"));
  EXPECT_EQ((*read)->records[0].replacement, fs::path("/staging/version-2"));
  EXPECT_TRUE((*read)->records[1].aside.empty());
  EXPECT_EQ(describe_swap(**read), data.string() + " is missing; " + logs.string() + " is missing");
  ASSERT_TRUE(remove_swap_journal(journal()));
  auto none = read_swap_journal(journal());
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

// The directory's owner plants what it likes where the journal goes.
TEST_F(DirectorySwapTest, AJournalZkToolDidNotWriteIsRefusedOrIgnoredNeverFollowed) {
  const fs::path data = tmp_.path() / "data";
  const struct {
    const char* what;
    std::string contents;
  } foreign[] = {
      {"an aside elsewhere", "label=pre-restore\nlive=" + data.string() +
                                 "\naside=/etc/pre-restore-1\nstaged=/s/v\n"},
      {"an aside not named after its live directory",
       "label=pre-restore\nlive=" + data.string() + "\naside=" + tmp_.path().string() +
           "/other\nstaged=/s/v\n"},
      {"a line of something else", "label=pre-restore\nrm -rf /\n"},
      {"no directory", "label=pre-restore\n"},
      {"no label", "live=" + data.string() + "\naside=\nstaged=/s/v\n"},
      {"more than a journal's size of junk", std::string(1 << 20, 'x')},
  };
  for (const auto& row : foreign) {
    write_file(journal(), row.contents);
    auto read = read_swap_journal(journal());
    ASSERT_FALSE(read) << row.what;
    EXPECT_EQ(read.error().kind, ErrorKind::Unsafe) << row.what;
    EXPECT_NE(read.error().message.find(journal().string()), std::string::npos) << row.what;
  }
  // A link reads as no journal: the file it points to is never read.
  fs::remove(journal());
  write_file(tmp_.path() / "secret", "label=pre-restore\n");
  fs::create_symlink(tmp_.path() / "secret", journal());
  auto linked = read_swap_journal(journal());
  ASSERT_TRUE(linked) << linked.error().message;
  EXPECT_FALSE(*linked);
}

}  // namespace
}  // namespace zktool
