// The Ceph gateway fixture is a real S3 store: it keeps what it is given, and
// refuses a request whose signature or payload hash is wrong. Requests are
// signed by curl, an S3 client independent of zk-tool's (curl 7.88 neither
// sends x-amz-content-sha256 itself nor canonicalises every query, so each
// request names its payload's hash and its query is written sorted and
// encoded already).
#include <openssl/evp.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "s3/ceph_gateway.h"
#include "support/files.h"
#include "support/process.h"

namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using zktool::testing::read_file;
using zktool::testing::TempDir;
using zktool::testing::write_file;

constexpr const char* kBucket = "zk-backups";

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

struct Reply {
  int status = 0;  // the HTTP status; 0 when curl got none
  std::string body;
};

class CephGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (auto missing = ts::CephGateway::missing_packages()) {
      skip_reason_ = *missing;
      return;
    }
    scratch_.emplace();
    auto started_at = std::chrono::steady_clock::now();
    auto gateway = ts::CephGateway::start(scratch_->path());
    ASSERT_TRUE(gateway) << gateway.error().message;
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started_at;
    std::cout << "CephGateway::start took " << took.count() << " s\n";
    gateway_.emplace(std::move(gateway.value()));
    auto bucket = gateway_->make_bucket(kBucket);
    ASSERT_TRUE(bucket) << bucket.error().message;
  }

  static void TearDownTestSuite() {
    gateway_.reset();
    scratch_.reset();
  }

  void SetUp() override {
    if (skip_reason_) GTEST_SKIP() << *skip_reason_;
    // GoogleTest skips the tests once SetUpTestSuite has failed; this keeps any
    // that would run anyway off a gateway that is not there.
    ASSERT_TRUE(gateway_) << "the gateway did not start: see the failure in SetUpTestSuite";
  }

  // `method` on path_and_query ("/bucket/key?a=b"), signed with `secret`,
  // claiming `sha256` as the payload's hash and sending `body` (if any).
  Reply s3(const std::string& method, const std::string& path_and_query,
           const std::optional<std::string>& body, const std::string& sha256,
           const std::string& secret) {
    const fs::path reply_file = work_.path() / "reply";
    std::vector<std::string> argv = {
        "/usr/bin/curl", "-sS", "-X", method,
        "--aws-sigv4", "aws:amz:" + gateway_->region() + ":s3",
        "--user", gateway_->access_key() + ":" + secret,
        "-H", "x-amz-content-sha256: " + sha256,
        "-o", reply_file.string(), "-w", "%{http_code}"};
    if (body) {
      const fs::path body_file = work_.path() / "body";
      write_file(body_file, *body);
      argv.insert(argv.end(), {"--data-binary", "@" + body_file.string()});
    }
    argv.push_back(gateway_->endpoint() + path_and_query);
    ts::CapturedRun run = ts::run_captured(argv);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    Reply reply;
    reply.status = std::atoi(run.out.c_str());
    std::error_code ec;
    if (fs::exists(reply_file, ec)) reply.body = read_file(reply_file);
    fs::remove(reply_file, ec);
    return reply;
  }

  Reply s3(const std::string& method, const std::string& path_and_query,
           const std::optional<std::string>& body = std::nullopt) {
    return s3(method, path_and_query, body, sha256_hex(body.value_or("")),
              gateway_->secret_key());
  }

  static inline std::optional<std::string> skip_reason_;
  static inline std::optional<TempDir> scratch_;
  static inline std::optional<ts::CephGateway> gateway_;
  TempDir work_;
};

// Every byte value, newlines and NULs included, over more than one network read.
std::string awkward_bytes() {
  std::mt19937 random(42);
  std::string bytes(300 * 1024, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

TEST_F(CephGatewayTest, KeepsAnObjectByteForByte) {
  const std::string object = awkward_bytes();
  Reply put = s3("PUT", std::string("/") + kBucket + "/kept", object);
  ASSERT_EQ(put.status, 200) << put.body;
  Reply get = s3("GET", std::string("/") + kBucket + "/kept");
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_TRUE(get.body == object) << "got " << get.body.size() << " bytes back of "
                                  << object.size();
}

TEST_F(CephGatewayTest, RefusesAWrongSecret) {
  const std::string listing = std::string("/") + kBucket;
  Reply refused = s3("GET", listing, std::nullopt, sha256_hex(""), "wrong" + gateway_->secret_key());
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos)
      << refused.body;
  // The same request with the right secret: the secret alone made the difference.
  EXPECT_EQ(s3("GET", listing).status, 200);
}

TEST_F(CephGatewayTest, RefusesABodyThatIsNotTheOneSigned) {
  const std::string key = std::string("/") + kBucket + "/tampered";
  Reply refused = s3("PUT", key, std::string("the body sent"), sha256_hex("the body signed"),
                     gateway_->secret_key());
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("<Code>XAmzContentSHA256Mismatch</Code>"), std::string::npos)
      << refused.body;
  EXPECT_EQ(s3("GET", key).status, 404) << "the refused body was stored";
}

TEST_F(CephGatewayTest, StartsAndAbortsAMultipartUpload) {
  const std::string key = std::string("/") + kBucket + "/multipart";
  Reply started = s3("POST", key + "?uploads=");
  ASSERT_EQ(started.status, 200) << started.body;
  const std::string open_tag = "<UploadId>";
  auto begin = started.body.find(open_tag);
  auto end = started.body.find("</UploadId>");
  ASSERT_NE(begin, std::string::npos) << started.body;
  ASSERT_NE(end, std::string::npos) << started.body;
  const std::string upload_id =
      started.body.substr(begin + open_tag.size(), end - begin - open_tag.size());
  // Sent as is in the query below: it must need no percent-encoding.
  ASSERT_FALSE(upload_id.empty());
  ASSERT_EQ(upload_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-._~"),
            std::string::npos)
      << upload_id;

  const std::string uploads = std::string("/") + kBucket + "?uploads=";
  Reply listed = s3("GET", uploads);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find(upload_id), std::string::npos) << listed.body;

  EXPECT_EQ(s3("DELETE", key + "?uploadId=" + upload_id).status, 204);
  listed = s3("GET", uploads);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.body.find(upload_id), std::string::npos) << "not aborted: " << listed.body;
}

}  // namespace
