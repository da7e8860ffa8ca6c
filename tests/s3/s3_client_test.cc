// zk-tool's S3 client (storage/s3_client.h), and the commands that take
// s3:// archives, against a real store that checks
// every signature and payload hash (Ceph's RADOS Gateway), directly and
// through a proxy that answers 503 SlowDown, cuts connections mid-part or
// stalls: objects come back byte for byte, a multipart upload leaves nothing
// behind, transient faults are retried within the deadline, and what is not
// transient is one error of the right kind, with no secret in it.
#include "storage/s3_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include <optional>
#include <random>
#include <string>

#include "s3/ceph_gateway.h"
#include "s3/fault_proxy.h"
#include "support/files.h"
#include "support/process.h"

namespace zktool::storage {
namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using namespace std::chrono_literals;
using zktool::testing::read_file;
using zktool::testing::TempDir;
using zktool::testing::write_file;

constexpr const char* kBucket = "zk-client";
constexpr uint64_t kPart = 5 << 20;  // S3's smallest part but the last

std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(gen());
  return out;
}

class S3ClientTest : public ::testing::Test {
 protected:
  // One gateway for every suite of this file; it stops when the process ends.
  static void SetUpTestSuite() {
    if (gateway_ || skip_reason_) return;
    if (auto missing = ts::CephGateway::missing_packages()) {
      skip_reason_ = *missing;
      return;
    }
    scratch_.emplace();
    auto gateway = ts::CephGateway::start(scratch_->path());
    ASSERT_TRUE(gateway) << gateway.error().message;
    gateway_.emplace(std::move(gateway.value()));
    ASSERT_TRUE(gateway_->make_bucket(kBucket));
  }
  void SetUp() override {
    if (skip_reason_) GTEST_SKIP() << *skip_reason_;
    ASSERT_TRUE(gateway_) << "the gateway did not start: see SetUpTestSuite";
  }

  S3Client client(const std::string& endpoint, RetryPolicy retry = {},
                  std::optional<std::string> secret = std::nullopt) const {
    return S3Client({endpoint, gateway_->region(), true},
                    {gateway_->access_key(), secret.value_or(gateway_->secret_key()), std::nullopt,
                     "the test"},
                    retry);
  }
  S3Client client() const { return client(gateway_->endpoint()); }
  int gateway_port() const {
    const std::string& e = gateway_->endpoint();
    return std::stoi(e.substr(e.rfind(':') + 1));
  }
  fs::path file_of(const std::string& name, const std::string& bytes) {
    write_file(work_.path() / name, bytes);
    return work_.path() / name;
  }
  std::string fetched(S3Client& c, const std::string& key) {
    const fs::path to = work_.path() / ("fetched-" + std::to_string(fetches_++));
    Status got = c.get_to_file(kBucket, key, to);
    EXPECT_TRUE(got) << got.error().message;
    return got ? read_file(to) : std::string();
  }

  static inline std::optional<std::string> skip_reason_;
  static inline std::optional<TempDir> scratch_;
  static inline std::optional<ts::CephGateway> gateway_;
  TempDir work_;
  int fetches_ = 0;
};

TEST_F(S3ClientTest, AnObjectGoesUpListsAndComesBackByteForByte) {
  S3Client c = client();
  const std::string bytes = random_bytes(300'000, 1);
  ASSERT_TRUE(c.put_file(kBucket, "plain/zk-backup-1.tar.zst", file_of("a", bytes)));
  // A key with characters the signature must encode exactly as the store does.
  ASSERT_TRUE(c.put_file(kBucket, "plain/odd name+(1)=~.tar", file_of("b", "x")));
  auto listed = c.list(kBucket, "plain/");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "plain/odd name+(1)=~.tar");
  EXPECT_EQ((*listed)[1].key, "plain/zk-backup-1.tar.zst");
  EXPECT_EQ((*listed)[1].size, bytes.size());
  EXPECT_FALSE((*listed)[1].last_modified.empty());
  EXPECT_EQ(fetched(c, "plain/zk-backup-1.tar.zst"), bytes);
  ASSERT_TRUE(c.remove(kBucket, "plain/zk-backup-1.tar.zst"));
  ASSERT_TRUE(c.remove(kBucket, "plain/zk-backup-1.tar.zst")) << "already gone is not an error";
  auto after = c.list(kBucket, "plain/zk");
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

TEST_F(S3ClientTest, ALargeFileGoesUpInSignedPartsAndLeavesNoUploadBehind) {
  S3Client c = client();
  const std::string bytes = random_bytes(2 * kPart + 12345, 2);
  ASSERT_TRUE(c.put_file(kBucket, "multi/big", file_of("big", bytes), kPart));
  EXPECT_EQ(fetched(c, "multi/big"), bytes);
  auto uploads = c.list_uploads(kBucket, "multi/");
  ASSERT_TRUE(uploads) << uploads.error().message;
  EXPECT_TRUE(uploads->empty());
}

TEST_F(S3ClientTest, RefusalsAreOneErrorOfTheirKindWithoutSecrets) {
  const std::string wrong = "wrong-secret-0123456789";
  S3Client forged = client(gateway_->endpoint(), {}, wrong);
  Status put = forged.put_file(kBucket, "refused/x", file_of("x", "x"));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().kind, ErrorKind::CredentialsRefused) << put.error().message;
  EXPECT_NE(put.error().message.find("SignatureDoesNotMatch"), std::string::npos)
      << put.error().message;
  EXPECT_EQ(put.error().message.find(wrong), std::string::npos);
  EXPECT_EQ(put.error().message.find(gateway_->secret_key()), std::string::npos);

  S3Client c = client();
  const fs::path to = work_.path() / "missing";
  Status got = c.get_to_file(kBucket, "refused/never-written", to);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::Io) << got.error().message;
  EXPECT_NE(got.error().message.find("NoSuchKey"), std::string::npos) << got.error().message;
  EXPECT_FALSE(fs::exists(to)) << "a failed download leaves no file";
  auto no_bucket = c.list("no-such-bucket", "");
  ASSERT_FALSE(no_bucket);
  EXPECT_EQ(no_bucket.error().kind, ErrorKind::Io) << no_bucket.error().message;
}

TEST_F(S3ClientTest, SlowDownAndCutConnectionsAreRetriedUntilTheyPass) {
  const std::string bytes = random_bytes(kPart + 1000, 3);
  const fs::path file = file_of("retried", bytes);
  for (const auto& [what, plan] :
       {std::pair{"503 SlowDown", ts::FaultPlan{ts::Fault::kSlowDown, 3, 0}},
        std::pair{"a connection cut mid-part", ts::FaultPlan{ts::Fault::kCut, 2, 100'000}}}) {
    auto proxy = ts::FaultProxy::start(gateway_port(), plan);
    ASSERT_TRUE(proxy);
    RetryPolicy retry;
    retry.deadline = 60s;
    retry.first_backoff = 50ms;
    S3Client c = client((*proxy)->endpoint(), retry);
    Status put = c.put_file(kBucket, std::string("retried/") + what, file, kPart);
    ASSERT_TRUE(put) << what << ": " << put.error().message;
    EXPECT_GT((*proxy)->connections(), plan.faulty) << what;
    EXPECT_EQ(fetched(c, std::string("retried/") + what), bytes) << what;
  }
}

TEST_F(S3ClientTest, AStoreThatNeverAnswersWellEndsAtTheDeadlineNamingTheAttempts) {
  for (const auto& [what, plan] :
       {std::pair{"503 forever", ts::FaultPlan{ts::Fault::kSlowDown, -1, 0}},
        std::pair{"stalled", ts::FaultPlan{ts::Fault::kStall, -1, 0}}}) {
    auto proxy = ts::FaultProxy::start(gateway_port(), plan);
    ASSERT_TRUE(proxy);
    RetryPolicy retry;
    retry.deadline = 4s;
    retry.first_backoff = 100ms;
    retry.stall_timeout = 2s;
    S3Client c = client((*proxy)->endpoint(), retry);
    const auto started = std::chrono::steady_clock::now();
    Status put = c.put_file(kBucket, "never/x", file_of("never", "x"));
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(put) << what;
    EXPECT_EQ(put.error().kind, ErrorKind::StoreUnavailable) << what << ": " << put.error().message;
    EXPECT_NE(put.error().message.find("attempts"), std::string::npos) << put.error().message;
    EXPECT_LT(took, 15s) << what << ": the deadline bounds the wait";
  }
  auto listed = client().list(kBucket, "never/");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty()) << "nothing reached the store";
}

// The commands, as an operator runs them: the store and credentials from the
// AWS variables alone, nothing zk-tool-specific.
class S3CommandTest : public S3ClientTest {
 protected:
  ts::CapturedRun zk_tool(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "AWS_ENDPOINT_URL=" + gateway_->endpoint(),
                                     "AWS_REGION=" + gateway_->region(),
                                     "AWS_ACCESS_KEY_ID=" + gateway_->access_key(),
                                     "AWS_SECRET_ACCESS_KEY=" + gateway_->secret_key(),
                                     "HOME=" + work_.path().string(),
                                     "TMPDIR=" + (work_.path() / "tmp").string(),
                                     ZKTOOL_BINARY};
    fs::create_directories(work_.path() / "tmp");
    argv.insert(argv.end(), args.begin(), args.end());
    return ts::run_captured(argv);
  }
};

TEST_F(S3CommandTest, ALogBackupGoesToTheBucketAndRestoresFromIt) {
  const fs::path replica = work_.path() / "replica";
  ASSERT_EQ(zk_tool({"log", "initialize", "--path", replica.string()}).exit_code, 0);
  const std::string url = std::string("s3://") + kBucket + "/logs/registry.tar.zst";
  auto backed_up = zk_tool({"log", "backup", url, "--path", replica.string(), "--json"});
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.err;
  auto listed = client().list(kBucket, "logs/");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "logs/registry.tar.zst");
  EXPECT_TRUE(fs::is_empty(work_.path() / "tmp")) << "the local copy goes once uploaded";

  auto restored = zk_tool({"log", "restore", url, "--path", (work_.path() / "restored").string(),
                           "--json"});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(nlohmann::json::parse(restored.out)["log"], nlohmann::json::parse(backed_up.out)["log"]);
  EXPECT_TRUE(fs::is_empty(work_.path() / "tmp")) << "the download goes with the command";
}

TEST_F(S3CommandTest, AReaderProvesTheObjectLocallyAndAMissingOneIsOneLine) {
  const fs::path replica = work_.path() / "replica";
  ASSERT_EQ(zk_tool({"log", "initialize", "--path", replica.string()}).exit_code, 0);
  const std::string url = std::string("s3://") + kBucket + "/proven/registry.tar.zst";
  ASSERT_EQ(zk_tool({"log", "backup", url, "--path", replica.string()}).exit_code, 0);
  // Fetched, then proven as a file would be: it is not a ZooKeeper backup.
  auto verified = zk_tool({"verify", url});
  EXPECT_EQ(verified.exit_code, 3) << verified.err;
  EXPECT_NE(verified.err.find("not a ZooKeeper backup"), std::string::npos) << verified.err;
  auto missing = zk_tool({"verify", std::string("s3://") + kBucket + "/proven/none.tar.zst"});
  EXPECT_EQ(missing.exit_code, 4) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  EXPECT_NE(missing.err.find("NoSuchKey"), std::string::npos) << missing.err;
  auto bad = zk_tool({"verify", "s3://only-a-bucket"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_TRUE(fs::is_empty(work_.path() / "tmp"));
}

}  // namespace
}  // namespace zktool::storage
