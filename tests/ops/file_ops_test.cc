#include "util/file_ops.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "../snapshot/fixtures.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::ScratchDir;
using testing::write_file;

uint64_t allocated_bytes(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(FileOps, SparseCopyKeepsHolesAndBytes) {
  ScratchDir dir;
  fs::path from = dir.path() / "log.1";
  write_file(from, "records");
  fs::resize_file(from, 64 << 20);  // a preallocated log: mostly hole
  ASSERT_TRUE(copy_file_sparse(from, dir.path() / "copy"));
  EXPECT_EQ(fs::file_size(dir.path() / "copy"), 64u << 20);
  EXPECT_LT(allocated_bytes(dir.path() / "copy"), 1u << 20);
  EXPECT_EQ(read_file(dir.path() / "copy").substr(0, 7), "records");
}

TEST(FileOps, SparseCopyCanStopShort) {
  ScratchDir dir;
  write_file(dir.path() / "f", "0123456789");
  ASSERT_TRUE(copy_file_sparse(dir.path() / "f", dir.path() / "g", 4));
  EXPECT_EQ(read_file(dir.path() / "g"), "0123");
}

TEST(FileOps, CopyNeverOverwrites) {
  ScratchDir dir;
  write_file(dir.path() / "f", "new");
  write_file(dir.path() / "g", "old");
  auto s = copy_file_sparse(dir.path() / "f", dir.path() / "g");
  ASSERT_FALSE(s);
  EXPECT_EQ(read_file(dir.path() / "g"), "old");
}

TEST(FileOps, RenameNeverReplaces) {
  ScratchDir dir;
  fs::create_directory(dir.path() / "a");
  fs::create_directory(dir.path() / "b");
  auto s = rename_no_replace(dir.path() / "a", dir.path() / "b");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Io);
  ASSERT_TRUE(rename_no_replace(dir.path() / "a", dir.path() / "c"));
  EXPECT_TRUE(fs::exists(dir.path() / "c"));
}

TEST(FileOps, OwnershipAndModeFollowTheReplacedDirectory) {
  ScratchDir dir;
  fs::create_directory(dir.path() / "live");
  ::chmod((dir.path() / "live").c_str(), 0750);
  ::chown((dir.path() / "live").c_str(), 4242, 4343);
  fs::create_directories(dir.path() / "staged" / "sub");
  write_file(dir.path() / "staged" / "sub" / "snapshot.1", "x");
  ASSERT_TRUE(take_ownership_of(dir.path() / "staged", dir.path() / "live"));
  struct stat st {};
  ::stat((dir.path() / "staged" / "sub" / "snapshot.1").c_str(), &st);
  EXPECT_EQ(st.st_uid, 4242u);
  EXPECT_EQ(st.st_gid, 4343u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ::stat((dir.path() / "staged" / "sub").c_str(), &st);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}

TEST(FileOps, AScratchDirectoryVanishesWithEverythingInIt) {
  ScratchDir dir;
  fs::path made;
  {
    auto scratch = ScratchDirectory::create(dir.path(), ".zk-tool-test-");
    ASSERT_TRUE(scratch) << scratch.error().message;
    made = scratch->created_as();
    EXPECT_EQ(made.parent_path(), dir.path());
    EXPECT_EQ(fs::status(made).permissions(), fs::perms(0700));
    write_file(scratch->path() / "sub" / "f", "x");
    EXPECT_EQ(read_file(made / "sub" / "f"), "x");
  }
  EXPECT_FALSE(fs::exists(made));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(FileOps, AScratchDirectorysErrorsNameWhereItWasMade) {
  ScratchDir dir;
  auto scratch = ScratchDirectory::create(dir.path(), ".zk-tool-test-");
  ASSERT_TRUE(scratch);
  const std::string through = scratch->path().string();
  Error named = scratch->named(make_error(
      ErrorKind::Io, through + "/a: full; " + through + "/b; another descriptor " + through + "1/c"));
  EXPECT_EQ(named.kind, ErrorKind::Io);
  EXPECT_EQ(named.message, (scratch->created_as() / "a").string() + ": full; " +
                               (scratch->created_as() / "b").string() +
                               "; another descriptor " + through + "1/c");
}

TEST(FileOps, ListingADirectoryGivesEveryEntryOrAnErrorNamingIt) {
  ScratchDir dir;
  write_file(dir.path() / "a", "1");
  fs::create_directory(dir.path() / "b");
  auto listed = list_directory(dir.path());
  ASSERT_TRUE(listed) << listed.error().message;
  std::set<std::string> names;
  for (const fs::path& p : *listed) names.insert(p.filename());
  EXPECT_EQ(names, (std::set<std::string>{"a", "b"}));
  auto missing = list_directory(dir.path() / "absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Io);
  EXPECT_EQ(missing.error().message,
            (dir.path() / "absent").string() + ": cannot list: No such file or directory");
}

// A mapped file cut short under its reader, as ZooKeeper truncates a log
// while inspect maps it: one line and exit 4, not a crash.
TEST(FileOps, AFileTruncatedUnderItsMappingEndsTheRunWithOneLine) {
  ScratchDir dir;
  const fs::path log = dir.path() / "log.1";
  write_file(log, std::string(1 << 16, 'x'));
  int err_pipe[2];
  ASSERT_EQ(::pipe(err_pipe), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(err_pipe[1], STDERR_FILENO);
    exit_on_sigbus("zk-tool inspect: " + dir.path().string() + ": a file shrank", 4);
    int fd = ::open(log.c_str(), O_RDONLY);
    auto* bytes = static_cast<volatile char*>(::mmap(nullptr, 1 << 16, PROT_READ, MAP_SHARED, fd, 0));
    if (::truncate(log.c_str(), 0) != 0) ::_exit(10);
    char last = bytes[(1 << 16) - 1];  // beyond the end now
    ::_exit(last == 'x' ? 11 : 12);
  }
  ::close(err_pipe[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  char said[256] = {};
  const ssize_t n = ::read(err_pipe[0], said, sizeof said - 1);
  ::close(err_pipe[0]);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 4);
  EXPECT_EQ(std::string(said, n > 0 ? n : 0),
            "zk-tool inspect: " + dir.path().string() + ": a file shrank\n");
}

TEST(FileOps, AtomicWriteLeavesNoTemporary) {
  ScratchDir dir;
  ASSERT_TRUE(write_file_atomically(dir.path() / "currentEpoch", "5"));
  EXPECT_EQ(read_file(dir.path() / "currentEpoch"), "5");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

// The hostile owner: a directory that belongs to `nobody`, who runs `script` in it (sh -c, as
// nobody, through runuser) before root's zk-tool writes there. Root only.
class NobodysDirectory {
 public:
  NobodysDirectory() {
    fs::permissions(scratch_.path(), fs::perms(0755));
    const passwd* nobody = ::getpwnam("nobody");
    if (nobody == nullptr) throw std::runtime_error("no user nobody");
    fs::create_directory(path());
    if (::chown(path().c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
      throw std::runtime_error("chown " + path().string());
    }
  }
  fs::path path() const { return scratch_.path() / "owned-by-nobody"; }
  // A root-only file outside the directory: what the attacker wants overwritten.
  fs::path plant_secret() const {
    fs::path secret = scratch_.path() / "root-only";
    write_file(secret, "root's secret");
    fs::permissions(secret, fs::perms(0600));
    return secret;
  }
  int as_nobody(const std::string& script) const {
    std::string command = "cd '" + path().string() + "' && /usr/sbin/runuser -u nobody -- sh -c '" +
                          script + "'";
    return std::system(command.c_str());
  }

 private:
  ScratchDir scratch_;
};

#define SKIP_UNLESS_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: plays the directory's owner as nobody"

TEST(FileOpsHostileOwner, AtomicWriteFollowsNoLinkTheOwnerPlants) {
  SKIP_UNLESS_ROOT();
  NobodysDirectory dir;
  fs::path secret = dir.plant_secret();
  // The temporary's old, predictable name and the final name both point at root's file.
  ASSERT_EQ(dir.as_nobody("ln -s " + secret.string() + " .zk-tool.prom.zk-tool-tmp && ln -s " +
                          secret.string() + " zk-tool.prom"),
            0);
  ASSERT_TRUE(write_file_atomically(dir.path() / "zk-tool.prom", "metrics\n"));
  EXPECT_EQ(read_file(secret), "root's secret");
  EXPECT_EQ(fs::status(secret).permissions(), fs::perms(0600));
  EXPECT_FALSE(fs::is_symlink(dir.path() / "zk-tool.prom")) << "the link is replaced";
  EXPECT_EQ(read_file(dir.path() / "zk-tool.prom"), "metrics\n");
  EXPECT_EQ(fs::read_symlink(dir.path() / ".zk-tool.prom.zk-tool-tmp"), secret) << "untouched";
}

TEST(FileOpsHostileOwner, ACopyFollowsNoLink) {
  ScratchDir dir;
  write_file(dir.path() / "secret", "root's secret");
  fs::create_symlink(dir.path() / "secret", dir.path() / "snapshot.0");
  Status copied = copy_file_sparse(dir.path() / "snapshot.0", dir.path() / "copy");
  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().kind, ErrorKind::Unsafe) << copied.error().message;
  EXPECT_FALSE(fs::exists(dir.path() / "copy"));
}

TEST(FileOpsHostileOwner, AtomicWriteHasTheModeAskedForWhateverTheUmask) {
  ScratchDir dir;
  mode_t old_umask = ::umask(077);  // the shipped unit's UMask=
  Status metrics = write_file_atomically(dir.path() / "zk-tool.prom", "m\n");  // as metrics.cc
  Status epoch = write_file_atomically(dir.path() / "currentEpoch", "5", 0600);
  ::umask(old_umask);
  ASSERT_TRUE(metrics);
  ASSERT_TRUE(epoch);
  EXPECT_EQ(fs::status(dir.path() / "zk-tool.prom").permissions(), fs::perms(0644))
      << "node_exporter reads it as its own user";
  EXPECT_EQ(fs::status(dir.path() / "currentEpoch").permissions(), fs::perms(0600));
}

// The owner of the parent (ZooKeeper's data directory, for restore's
// staging) renames root's scratch directory away and puts its own, full of
// links to root's files, at the name. Root's writes and its clean-up still
// reach only the directory it made; the owner cannot even look inside it.
TEST(FileOpsHostileOwner, AScratchDirectorySwappedByTheParentsOwnerIsStillTheOneMade) {
  SKIP_UNLESS_ROOT();
  NobodysDirectory dir;
  const fs::path secret = dir.plant_secret();
  {
    auto scratch = ScratchDirectory::create(dir.path(), ".zk-tool-staging-");
    ASSERT_TRUE(scratch) << scratch.error().message;
    write_file(scratch->path() / "zookeeper" / "currentEpoch", "1");
    const std::string name = scratch->created_as().filename().string();
    EXPECT_NE(dir.as_nobody("ls " + name + " >/dev/null 2>&1"), 0) << "nobody cannot look in";
    ASSERT_EQ(dir.as_nobody("mv " + name + " moved && mkdir -p " + name + "/zookeeper && ln -s " +
                            secret.string() + " " + name + "/zookeeper/currentEpoch && ln -s " +
                            secret.string() + " " + name + "/zookeeper/acceptedEpoch"),
              0);
    write_file(scratch->path() / "zookeeper" / "acceptedEpoch", "2");
    ASSERT_TRUE(write_file_atomically(scratch->path() / "zookeeper" / "currentEpoch", "3"));
    EXPECT_EQ(read_file(dir.path() / "moved" / "zookeeper" / "currentEpoch"), "3");
    EXPECT_EQ(read_file(dir.path() / "moved" / "zookeeper" / "acceptedEpoch"), "2");
  }
  EXPECT_EQ(read_file(secret), "root's secret");
  EXPECT_EQ(fs::status(secret).permissions(), fs::perms(0600));
  // Root's own directory is emptied where it was moved; nobody's planted one
  // is left as it was.
  EXPECT_TRUE(fs::is_empty(dir.path() / "moved"));
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dir.path())) left.insert(e.path().filename());
  EXPECT_EQ(left.size(), 2u);
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (e.path().filename() == "moved") continue;
    EXPECT_TRUE(fs::is_symlink(e.path() / "zookeeper" / "currentEpoch"));
  }
}

}  // namespace
}  // namespace zktool
