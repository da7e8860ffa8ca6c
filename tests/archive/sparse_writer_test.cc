#include "archive/sparse_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "util/unique_fd.h"
#include "test_support.h"

namespace zktool::archive {
namespace {

using testing::random_bytes;
using testing::read_file;
using testing::TempDir;
namespace fs = std::filesystem;

class SparseWriterTest : public ::testing::Test {
 protected:
  // Writes `content` in pieces of `piece` bytes; returns the file's allocated bytes.
  uint64_t write_in_pieces(const std::string& content, size_t piece) {
    UniqueFd fd(::open(path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    EXPECT_TRUE(fd.valid());
    SparseWriter writer(fd.get());
    for (size_t at = 0; at < content.size(); at += piece) {
      Status s = writer.write(content.data() + at, std::min(piece, content.size() - at));
      EXPECT_TRUE(s) << s.error().message;
    }
    Status s = writer.finish();
    EXPECT_TRUE(s) << s.error().message;
    struct stat st {};
    EXPECT_EQ(::fstat(fd.get(), &st), 0);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  }
  fs::path path() const { return dir_.path() / "file"; }

  TempDir dir_;
};

TEST_F(SparseWriterTest, ZeroBlocksBecomeHolesAndTheContentIsUnchanged) {
  // A preallocated log: 64 KiB of records, then 8 MiB of zeros.
  const std::string content = random_bytes(64 << 10, 1) + std::string(8 << 20, '\0');
  const uint64_t allocated = write_in_pieces(content, 1 << 20);
  EXPECT_EQ(read_file(path()), content);
  EXPECT_LT(allocated, uint64_t{1} << 20) << "the zeros were written";
}

TEST_F(SparseWriterTest, PiecesThatDoNotLineUpWithBlocksKeepEveryByte) {
  // Zero runs shorter than, equal to and longer than a block, at odd offsets.
  std::string content = random_bytes(100, 2) + std::string(4095, '\0') + "x" +
                         std::string(4096 * 3 + 17, '\0') + random_bytes(5000, 3) +
                         std::string(4096, '\0') + "y" + std::string(10000, '\0');
  for (size_t piece : {size_t{1}, size_t{7}, size_t{1000}, size_t{4096}, size_t{5000}}) {
    fs::remove(path());
    write_in_pieces(content, piece);
    EXPECT_EQ(read_file(path()), content) << "pieces of " << piece;
  }
}

TEST_F(SparseWriterTest, AFileOfOnlyZerosHasItsLengthAndNoData) {
  const std::string zeros(3 << 20, '\0');
  const uint64_t allocated = write_in_pieces(zeros, 1 << 20);
  EXPECT_EQ(fs::file_size(path()), zeros.size());
  EXPECT_EQ(read_file(path()), zeros);
  EXPECT_LT(allocated, uint64_t{64} << 10);
}

TEST_F(SparseWriterTest, AWriteThatFailsSaysWhich) {
  UniqueFd fd(::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  SparseWriter writer(fd.get());
  const std::string data = "not zeros";
  Status s = writer.write(data.data(), data.size());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Io);
  EXPECT_EQ(s.error().message.rfind("cannot write: ", 0), 0u) << s.error().message;
}

}  // namespace
}  // namespace zktool::archive
