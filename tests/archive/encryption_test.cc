// Encrypted archives (archive/encryption.h): keys, the sealed stream on its
// own, and whole archives through the real writer and reader; then every way
// a sealed file can be damaged or tampered with, each refused at the first
// byte that proves it, and what can be learned without the key.
#include "archive/encryption.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "archive/archive_reader.h"
#include "archive/archive_writer.h"
#include "test_support.h"

namespace zktool::archive {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::random_bytes;
using testing::read_file;
using testing::sample_manifest;
using testing::TempDir;
using testing::write_file;

constexpr size_t kHeaderSize = 52;   // FORMAT.md: magic, key id, created, chunk size, stream header
constexpr size_t kTrailerSize = 48;  // magic, offset, SHA-256
constexpr size_t kChunk = 1 << 20;   // the writer's chunk size
constexpr size_t kSealedChunk = kChunk + 17;
const auto kCreated = std::chrono::sys_seconds(std::chrono::seconds(1'796'000'000));

class EncryptionTest : public ::testing::Test {
 protected:
  ArchiveKey key(const std::string& name) {
    const fs::path file = dir_.path() / name;
    if (!fs::exists(file)) {
      EXPECT_TRUE(ArchiveKey::generate_file(file));
    }
    auto k = ArchiveKey::read_file(file);
    EXPECT_TRUE(k) << k.error().message;
    return *k;
  }

  // `plain` sealed with `k` into a new file.
  fs::path seal(const std::string& plain, const ArchiveKey& k, const std::string& name = "sealed") {
    const fs::path path = dir_.path() / name;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    auto writer = SealingWriter::start(k, fd.get(), path, kCreated);
    EXPECT_TRUE(writer) << writer.error().message;
    // In uneven pieces, as libarchive hands them over.
    for (size_t at = 0; at < plain.size();) {
      const size_t n = std::min<size_t>(plain.size() - at, 10'240 + at % 7'777);
      EXPECT_TRUE(writer->write(plain.data() + at, n));
      at += n;
    }
    EXPECT_TRUE(writer->finish());
    return path;
  }

  // Everything `path` decrypts to under `k`, or the first error.
  Result<std::string> open_all(const fs::path& path, const ArchiveKey& k) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    auto reader = OpeningReader::open(k, std::move(fd), path);
    if (!reader) return reader.error();
    std::string out;
    for (;;) {
      auto chunk = reader->next();
      if (!chunk) return chunk.error();
      if (chunk->empty()) return out;
      out.append(chunk->data(), chunk->size());
    }
  }

  Result<SealedHeader> check(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return check_sealed(fd.get(), path);
  }

  TempDir dir_;
};

TEST_F(EncryptionTest, KeygenWritesAPrivateKeyOnceAndReadsItBack) {
  const fs::path file = dir_.path() / "archive.key";
  ASSERT_TRUE(ArchiveKey::generate_file(file));
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const std::string text = read_file(file);
  EXPECT_TRUE(text.starts_with("zk-tool-archive-key-1 ")) << text;
  auto first = ArchiveKey::read_file(file);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->id().size(), 16u);

  auto again = ArchiveKey::generate_file(file);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::Usage);
  EXPECT_EQ(read_file(file), text) << "an existing key is never replaced";
  // Nor is a link followed to write one somewhere else.
  fs::create_symlink(dir_.path() / "elsewhere", dir_.path() / "link.key");
  EXPECT_FALSE(ArchiveKey::generate_file(dir_.path() / "link.key"));
  EXPECT_FALSE(fs::exists(dir_.path() / "elsewhere"));

  ASSERT_TRUE(ArchiveKey::generate_file(dir_.path() / "other.key"));
  auto other = ArchiveKey::read_file(dir_.path() / "other.key");
  ASSERT_TRUE(other);
  EXPECT_NE(other->id(), first->id());
}

TEST_F(EncryptionTest, AFileThatIsNotAKeyIsRefusedWithoutShowingIt) {
  const struct {
    const char* what;
    std::string text;
  } rows[] = {
      {"empty", ""},
      {"another format", "-----BEGIN PRIVATE KEY-----\n"},
      {"a short key", "zk-tool-archive-key-1 AAAA\n"},
      {"not base64", "zk-tool-archive-key-1 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"},
  };
  for (const auto& row : rows) {
    write_file(dir_.path() / "bad.key", row.text);
    auto k = ArchiveKey::read_file(dir_.path() / "bad.key");
    ASSERT_FALSE(k) << row.what;
    EXPECT_EQ(k.error().kind, ErrorKind::Usage) << row.what;
    if (!row.text.empty()) {
      EXPECT_EQ(k.error().message.find(row.text), std::string::npos);
    }
  }
  auto missing = ArchiveKey::read_file(dir_.path() / "none.key");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Usage);
}

TEST_F(EncryptionTest, EveryLengthRoundTripsAcrossChunkBoundaries) {
  const ArchiveKey k = key("k");
  for (size_t size : {size_t{0}, size_t{1}, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk}) {
    const std::string plain = random_bytes(size, static_cast<uint32_t>(size));
    const fs::path sealed = seal(plain, k);
    const size_t chunks = size == 0 ? 1 : (size + kChunk - 1) / kChunk;
    EXPECT_EQ(fs::file_size(sealed), kHeaderSize + size + chunks * 17 + kTrailerSize) << size;
    auto opened = open_all(sealed, k);
    ASSERT_TRUE(opened) << size << ": " << opened.error().message;
    EXPECT_EQ(*opened, plain) << size;
    auto header = check(sealed);
    ASSERT_TRUE(header) << header.error().message;
    EXPECT_EQ(header->key_id, k.id());
    EXPECT_EQ(header->created, kCreated);
  }
}

TEST_F(EncryptionTest, AnotherKeyIsNamedAndOpensNothing) {
  const fs::path sealed = seal(random_bytes(1000, 1), key("right"));
  auto opened = open_all(sealed, key("wrong"));
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().kind, ErrorKind::WrongKey);
  EXPECT_NE(opened.error().message.find(key("right").id()), std::string::npos)
      << opened.error().message;
}

// One byte flipped anywhere, or the file cut or lengthened, or its chunks
// reordered: with the key, reading fails; without it, the trailer's check does.
TEST_F(EncryptionTest, EveryDamageIsFoundWithAndWithoutTheKey) {
  const ArchiveKey k = key("k");
  const std::string plain = random_bytes(3 * kChunk + 5, 7);
  const std::string good = read_file(seal(plain, k));
  const size_t trailer = good.size() - kTrailerSize;
  struct Damage {
    std::string what;
    std::string bytes;
    ErrorKind with_key;
  };
  std::vector<Damage> damages;
  auto flipped = [&](size_t at) {
    std::string b = good;
    b[at] = static_cast<char>(b[at] ^ 0x01);
    return b;
  };
  damages.push_back({"the created time (authenticated)", flipped(20), ErrorKind::Corrupt});
  damages.push_back({"the stream header", flipped(40), ErrorKind::Corrupt});
  damages.push_back({"the first chunk", flipped(kHeaderSize + 100), ErrorKind::Corrupt});
  damages.push_back({"a middle chunk's tag", flipped(kHeaderSize + 2 * kSealedChunk - 3),
                     ErrorKind::Corrupt});
  damages.push_back({"the last chunk", flipped(trailer - 1), ErrorKind::Corrupt});
  damages.push_back({"the trailer's digest", flipped(trailer + 30), ErrorKind::Corrupt});
  damages.push_back({"the key id", flipped(9), ErrorKind::WrongKey});
  damages.push_back({"the chunk size", flipped(26), ErrorKind::Corrupt});
  damages.push_back({"cut after a whole chunk",
                     good.substr(0, kHeaderSize + kSealedChunk) + good.substr(trailer),
                     ErrorKind::Corrupt});
  damages.push_back({"cut inside the trailer", good.substr(0, good.size() - 10), ErrorKind::Corrupt});
  damages.push_back({"cut to the header", good.substr(0, kHeaderSize), ErrorKind::Corrupt});
  damages.push_back({"bytes appended", good + "x", ErrorKind::Corrupt});
  std::string swapped = good;
  std::copy(good.begin() + kHeaderSize + kSealedChunk, good.begin() + kHeaderSize + 2 * kSealedChunk,
            swapped.begin() + kHeaderSize);
  std::copy(good.begin() + kHeaderSize, good.begin() + kHeaderSize + kSealedChunk,
            swapped.begin() + kHeaderSize + kSealedChunk);
  damages.push_back({"two chunks swapped", swapped, ErrorKind::Corrupt});
  std::string dropped = good.substr(0, kHeaderSize) + good.substr(kHeaderSize + kSealedChunk);
  damages.push_back({"a chunk dropped", dropped, ErrorKind::Corrupt});

  for (const Damage& d : damages) {
    const fs::path path = dir_.path() / "damaged";
    write_file(path, d.bytes);
    auto opened = open_all(path, k);
    ASSERT_FALSE(opened) << d.what;
    EXPECT_EQ(opened.error().kind, d.with_key) << d.what << ": " << opened.error().message;
    EXPECT_NE(opened.error().message.find(path.string()), std::string::npos) << d.what;
    auto checked = check(path);
    // The trailer covers every byte before it, the key id included.
    EXPECT_FALSE(checked) << d.what;
  }
}

TEST_F(EncryptionTest, AHeaderClaimingHugeChunksIsRefusedBeforeAnyIsRead) {
  std::string bytes = read_file(seal("small", key("k")));
  bytes[24] = '\x7f';  // chunk size 2 GiB
  write_file(dir_.path() / "huge", bytes);
  auto opened = open_all(dir_.path() / "huge", key("k"));
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(opened.error().message.find("chunk size"), std::string::npos) << opened.error().message;
}

// The whole archive through the real writer and reader.
class EncryptedArchiveTest : public EncryptionTest {
 protected:
  fs::path write_archive(const WriteOptions& options) {
    write_file(dir_.path() / "src" / "snapshot", payload_);
    const fs::path out = dir_.path() / "out" / "backup.tar.zst.enc";
    fs::create_directories(out.parent_path());
    auto writer = ArchiveWriter::open(out, options);
    EXPECT_TRUE(writer) << writer.error().message;
    EXPECT_TRUE(writer->add_file("zookeeper/snapshot/version-2/snapshot.100000002",
                                 dir_.path() / "src" / "snapshot"));
    auto committed = writer->commit(sample_manifest(), [&](const fs::path& part, const Manifest&) {
      // The proof reads the sealed .part as any reader would.
      auto reader = ArchiveReader::open(part, options.key);
      if (!reader) return Status(reader.error());
      auto checked = reader->check();
      return checked ? Status(Ok{}) : Status(checked.error());
    });
    EXPECT_TRUE(committed) << committed.error().message;
    return out;
  }

  // Compressible and recognisable: it must not show through the ciphertext.
  std::string payload_ = [] {
    std::string s;
    while (s.size() < 3 * kChunk) s += "/marathon/apps/secret-token=hunter2\n";
    return s;
  }();
};

TEST_F(EncryptedArchiveTest, ReadsBackWithTheKeyAndShowsNothingWithoutIt) {
  WriteOptions options;
  options.compression = Compression::None;  // the plaintext tar would show it all
  options.key = key("k");
  const fs::path archive = write_archive(options);
  const std::string bytes = read_file(archive);
  EXPECT_TRUE(bytes.starts_with("ZKTOOLE1"));
  for (const char* plain : {"hunter2", "zk-tool-manifest", "zookeeper/snapshot", "master-1"}) {
    EXPECT_EQ(bytes.find(plain), std::string::npos) << plain << " shows through";
  }

  auto reader = ArchiveReader::open(archive, options.key);
  ASSERT_TRUE(reader) << reader.error().message;
  ASSERT_TRUE(reader->manifest());
  const fs::path staging = dir_.path() / "staging";
  fs::create_directory(staging);
  auto extracted = reader->extract_verified(staging);
  ASSERT_TRUE(extracted) << extracted.error().message;
  EXPECT_EQ(read_file(staging / "zookeeper/snapshot/version-2/snapshot.100000002"), payload_);

  auto keyless = ArchiveReader::open(archive);
  ASSERT_FALSE(keyless);
  EXPECT_EQ(keyless.error().kind, ErrorKind::WrongKey);
  EXPECT_NE(keyless.error().message.find("--encrypt-key-file"), std::string::npos);
  auto wrong = ArchiveReader::open(archive, key("other"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::WrongKey);
}

// libarchive stops reading at the tar's end: a reader must still insist on
// the sealed stream's final chunk and trailer behind it.
TEST_F(EncryptedArchiveTest, ACheckProvesTheTrailerBehindTheLastEntry) {
  WriteOptions options;
  options.compression = Compression::None;  // several chunks: the manifest is in the first
  options.key = key("k");
  const fs::path archive = write_archive(options);
  std::string bytes = read_file(archive);
  bytes[bytes.size() - 1] = static_cast<char>(bytes.back() ^ 0x01);  // the trailer's digest
  write_file(archive, bytes);
  auto reader = ArchiveReader::open(archive, options.key);
  ASSERT_TRUE(reader) << "the manifest itself is intact";
  auto checked = reader->check();
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(checked.error().message.find("trailer"), std::string::npos) << checked.error().message;
}

}  // namespace
}  // namespace zktool::archive
