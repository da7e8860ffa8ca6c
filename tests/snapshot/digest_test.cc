#include "snapshot/digest.h"

#include <gtest/gtest.h>

namespace zktool::snapshot {
namespace {

Stat some_stat() {
  Stat st;
  st.czxid = 5;
  st.mzxid = 7;
  st.pzxid = 9;
  st.ctime = 1700000000000;
  st.mtime = 1700000000001;
  st.version = 2;
  st.cversion = 3;
  st.aversion = 1;
  return st;
}

TEST(Digest, SystemSubtreeCountsNothing) {
  EXPECT_EQ(node_digest("/zookeeper/quota", std::string_view("x"), some_stat()), TreeDigest{});
  EXPECT_NE(node_digest("/zookeeper", std::string_view("x"), some_stat()), TreeDigest{});
}

TEST(Digest, RootIsHashedTheSameUnderEitherName) {
  EXPECT_EQ(node_digest("/", std::nullopt, some_stat()), node_digest("", std::nullopt, some_stat()));
}

TEST(Digest, EveryStatFieldAndTheDataCount) {
  TreeDigest base = node_digest("/a", std::string_view("x"), some_stat());
  EXPECT_NE(node_digest("/a", std::string_view("y"), some_stat()), base);
  EXPECT_NE(node_digest("/b", std::string_view("x"), some_stat()), base);
  for (int field = 0; field < 9; ++field) {
    Stat st = some_stat();
    switch (field) {
      case 0: ++st.czxid; break;
      case 1: ++st.mzxid; break;
      case 2: ++st.pzxid; break;
      case 3: ++st.ctime; break;
      case 4: ++st.mtime; break;
      case 5: ++st.version; break;
      case 6: ++st.cversion; break;
      case 7: ++st.aversion; break;
      case 8: ++st.ephemeral_owner; break;
    }
    EXPECT_NE(node_digest("/a", std::string_view("x"), st), base) << "field " << field;
  }
}

TEST(Digest, NullAndEmptyDataHashAlike) {
  // ZooKeeper skips null data and adds nothing for empty data.
  EXPECT_EQ(node_digest("/a", std::nullopt, some_stat()),
            node_digest("/a", std::string_view(""), some_stat()));
}

TEST(Digest, AsciiVariantDiffersOnlyForNonAsciiPaths) {
  TreeDigest ascii_path = node_digest("/plain", std::nullopt, some_stat());
  EXPECT_EQ(ascii_path.utf8, ascii_path.ascii);
  TreeDigest unicode = node_digest("/ünï/日本/😀", std::nullopt, some_stat());
  EXPECT_NE(unicode.utf8, unicode.ascii);
  // Under US-ASCII every non-ASCII character is one '?'.
  EXPECT_EQ(unicode.ascii, node_digest("/?n?/?" "?/?", std::nullopt, some_stat()).utf8);
}

}  // namespace
}  // namespace zktool::snapshot
