// The archive must be readable without zk-tool: GNU tar, bsdtar and zstd.
#include <gtest/gtest.h>

#include "archive/archive_path.h"
#include "archive/archive_writer.h"
#include "test_support.h"

namespace zktool::archive {
namespace {

using testing::random_bytes;
using testing::read_file;
using testing::run;
using testing::sample_manifest;
using testing::TempDir;
using testing::write_file;
namespace fs = std::filesystem;

const std::vector<std::pair<std::string, std::string>> kFiles = {
    {"zookeeper/snapshot/version-2/snapshot.100000002", random_bytes(200'000, 11)},
    {"zookeeper/snapshot/version-2/currentEpoch", "1\n"},
    {"zookeeper/transactions/version-2/log.100000001", std::string(50'000, 'z')},
};

class TarTools : public ::testing::TestWithParam<Compression> {
 protected:
  void SetUp() override {
    archive_ = dir_.path() / ("backup.tar." + std::string(to_string(GetParam())));
    auto writer = ArchiveWriter::open(archive_, {GetParam(), std::nullopt, 0});
    ASSERT_TRUE(writer);
    for (const auto& [path, content] : kFiles) {
      write_file(dir_.path() / "src" / path, content);
      ASSERT_TRUE(writer->add_file(path, dir_.path() / "src" / path));
    }
    auto manifest = writer->commit(sample_manifest());
    ASSERT_TRUE(manifest) << manifest.error().message;
    manifest_json_ = to_json(*manifest);
  }

  std::string expected_listing() const {
    std::string listing = std::string(kManifestName) + "\n";
    for (const auto& [path, content] : kFiles) listing += path + "\n";
    return listing;
  }

  void expect_extracted(const fs::path& dir) const {
    EXPECT_EQ(read_file(dir / kManifestName), manifest_json_);
    for (const auto& [path, content] : kFiles) EXPECT_EQ(read_file(dir / path), content);
  }

  TempDir dir_;
  fs::path archive_;
  std::string manifest_json_;
};

TEST_P(TarTools, GnuTarListsTheManifestFirstAndExtracts) {
  const auto listing = run("tar -tf " + archive_.string());
  ASSERT_EQ(listing.exit_code, 0) << listing.output;
  EXPECT_EQ(listing.output, expected_listing());
  const fs::path out = dir_.path() / "gnu";
  fs::create_directory(out);
  const auto extract = run("tar -xf " + archive_.string() + " -C " + out.string());
  ASSERT_EQ(extract.exit_code, 0) << extract.output;
  EXPECT_EQ(extract.output, "");
  expect_extracted(out);
}

TEST_P(TarTools, BsdtarListsTheManifestFirstAndExtracts) {
  const auto listing = run("bsdtar -tf " + archive_.string());
  ASSERT_EQ(listing.exit_code, 0) << listing.output;
  EXPECT_EQ(listing.output, expected_listing());
  const fs::path out = dir_.path() / "bsd";
  fs::create_directory(out);
  const auto extract = run("bsdtar -xf " + archive_.string() + " -C " + out.string());
  ASSERT_EQ(extract.exit_code, 0) << extract.output;
  expect_extracted(out);
}

TEST_P(TarTools, TheCompressorsOwnToolAcceptsTheStream) {
  std::string decompress;
  switch (GetParam()) {
    case Compression::Zstd:
      decompress = "zstd -q -dc ";
      break;
    case Compression::Gzip:
      decompress = "gzip -dc ";
      break;
    case Compression::None:
      decompress = "cat ";
      break;
  }
  if (GetParam() != Compression::None) {
    // -t checks the whole stream, trailing bytes included.
    const auto test = run(decompress.substr(0, decompress.find(' ')) + " -t " + archive_.string());
    EXPECT_EQ(test.exit_code, 0) << test.output;
  }
  const auto listing = run(decompress + archive_.string() + " | tar -tf -");
  ASSERT_EQ(listing.exit_code, 0) << listing.output;
  EXPECT_EQ(listing.output, expected_listing());
}

TEST(CompressionNames, RoundTrip) {
  for (Compression c : {Compression::Zstd, Compression::Gzip, Compression::None}) {
    EXPECT_EQ(parse_compression(to_string(c)), c);
  }
  EXPECT_EQ(parse_compression("xz"), std::nullopt);
  EXPECT_EQ(parse_compression("ZSTD"), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Codecs, TarTools,
                         ::testing::Values(Compression::Zstd, Compression::Gzip, Compression::None),
                         [](const auto& p) { return std::string(to_string(p.param)); });

}  // namespace
}  // namespace zktool::archive
