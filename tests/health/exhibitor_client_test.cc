// Exhibitor's status API: the strict parser on what Exhibitor answers, and
// the client against the fixture's fault modes, each a distinct error within
// its timeout.
#include <gtest/gtest.h>

#include <set>

#include "exhibitor/exhibitor_fixture.h"
#include "health/exhibitor_client.h"
#include "health_test_support.h"

namespace zktool::testsupport {
namespace {

using namespace std::chrono_literals;
using health::ExhibitorCode;
using Mode = ExhibitorFixture::Mode;

// As curl printed it from a one-node Exhibitor (Jackson writes the keys sorted).
constexpr const char* kOneMaster =
    R"([{"code":3,"description":"serving","hostname":"ip-10-0-0-12","isLeader":true}])";
// A three-master DC/OS cluster with one master restarting.
constexpr const char* kThreeMasters =
    R"([{"code":3,"description":"serving","hostname":"10.0.4.156","isLeader":false},)"
    R"({"code":1,"description":"down","hostname":"10.0.5.12","isLeader":false},)"
    R"({"code":3,"description":"serving","hostname":"10.0.6.78","isLeader":true}])";

TEST(WithoutCredentials, HidesUserAndPasswordOnly) {
  const std::pair<const char*, const char*> rows[] = {
      {"http://admin:secret@m1:8181/exhibitor/v1/cluster/status",
       "http://***@m1:8181/exhibitor/v1/cluster/status"},
      {"https://token@master.mesos/exhibitor/exhibitor/v1/cluster/status",
       "https://***@master.mesos/exhibitor/exhibitor/v1/cluster/status"},
      {"http://a:b@c@host/", "http://***@host/"},  // the last @ of the authority ends userinfo
      {"http://host/path@not-userinfo", "http://host/path@not-userinfo"},
      {"http://host:8181/x?user=a@b", "http://host:8181/x?user=a@b"},
      {"http://localhost:8181/exhibitor/v1/cluster/status",
       "http://localhost:8181/exhibitor/v1/cluster/status"},
      {"user:pw@host/no-scheme", "***@host/no-scheme"},
      {"", ""},
  };
  for (const auto& [url, shown] : rows) EXPECT_EQ(health::without_credentials(url), shown) << url;
}

TEST(ParseExhibitorStatus, ReadsWhatExhibitorAnswers) {
  auto one = health::parse_exhibitor_status(kOneMaster);
  ASSERT_TRUE(one) << one.error().message;
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].hostname, "ip-10-0-0-12");
  EXPECT_EQ((*one)[0].code, ExhibitorCode::kServing);
  EXPECT_EQ((*one)[0].description, "serving");
  EXPECT_TRUE((*one)[0].is_leader);

  auto three = health::parse_exhibitor_status(kThreeMasters);
  ASSERT_TRUE(three) << three.error().message;
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ((*three)[1].hostname, "10.0.5.12");
  EXPECT_EQ((*three)[1].code, ExhibitorCode::kDown);
  EXPECT_FALSE((*three)[1].is_leader);
  EXPECT_TRUE((*three)[2].is_leader);
}

TEST(ParseExhibitorStatus, AcceptsEveryCodeAndIgnoresUnknownKeys) {
  auto servers = health::parse_exhibitor_status(
      R"([{"hostname":"a","code":0,"description":"latent","isLeader":false,"extra":[1]},
          {"hostname":"b","code":2,"description":"not serving","isLeader":false}])");
  ASSERT_TRUE(servers) << servers.error().message;
  EXPECT_EQ((*servers)[0].code, ExhibitorCode::kLatent);
  EXPECT_EQ((*servers)[1].code, ExhibitorCode::kNotServing);
  auto none = health::parse_exhibitor_status("[]");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
}

TEST(ParseExhibitorStatus, RefusesWrongShapesNamingWhatIsWrong) {
  struct Case {
    const char* body;
    const char* says;
  };
  for (const Case& c : {
           Case{"", "not JSON"},
           Case{"<html>Exhibitor</html>", "not JSON"},
           Case{R"([{"hostname":"a","code":3,)", "not JSON"},
           Case{R"({"hostname":"a","code":3,"description":"serving","isLeader":true})",
                "is a JSON object, not an array"},
           Case{R"(["a"])", "element 0 is a string, not an object"},
           Case{R"([{"code":3,"description":"serving","isLeader":true}])",
                "element 0 has no \"hostname\""},
           Case{R"([{"hostname":"a","description":"serving","isLeader":true}])",
                "element 0 has no \"code\""},
           Case{R"([{"hostname":"a","code":3,"isLeader":true}])",
                "element 0 has no \"description\""},
           Case{R"([{"hostname":"a","code":3,"description":"serving"}])",
                "element 0 has no \"isLeader\""},
           Case{R"([{"hostname":"a","code":"3","description":"serving","isLeader":true}])",
                "\"code\" of type string"},
           Case{R"([{"hostname":"a","code":3.0,"description":"serving","isLeader":true}])",
                "\"code\" of type number"},
           Case{R"([{"hostname":"a","code":3,"description":"serving","isLeader":"true"}])",
                "\"isLeader\" of type string"},
           Case{R"([{"hostname":7,"code":3,"description":"serving","isLeader":true}])",
                "\"hostname\" of type number"},
           Case{R"([{"hostname":"","code":3,"description":"serving","isLeader":true}])",
                "has no hostname"},
           Case{R"([{"hostname":"a","code":4,"description":"x","isLeader":false}])",
                "element 0 (\"a\") has code 4, not one of 0-3"},
           Case{R"([{"hostname":"a","code":-1,"description":"x","isLeader":false}])",
                "has code -1"},
       }) {
    auto servers = health::parse_exhibitor_status(c.body);
    ASSERT_FALSE(servers) << c.body;
    EXPECT_EQ(servers.error().kind, ErrorKind::Unhealthy);
    EXPECT_NE(servers.error().message.find(c.says), std::string::npos)
        << c.body << " -> " << servers.error().message;
  }
}

class ExhibitorFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fixture = ExhibitorFixture::start({});
    ASSERT_TRUE(fixture) << fixture.error().message;
    fixture_ = std::move(*fixture);
  }

  // Requests the status in `mode`; expects a failure whose message starts with the URL
  // and contains `says`, well within the timeout.
  void expect_failure(Mode mode, const std::string& says,
                      std::chrono::milliseconds timeout = 1500ms) {
    fixture_->set_mode(mode);
    size_t requests = fixture_->status_requests();
    auto start = std::chrono::steady_clock::now();
    auto servers = health::get_exhibitor_status(
        health::ExhibitorEndpoint(fixture_->status_url()), {timeout, timeout});
    auto took = elapsed_since(start);
    ASSERT_FALSE(servers);
    EXPECT_EQ(servers.error().kind, ErrorKind::Unhealthy);
    EXPECT_EQ(servers.error().message.rfind("GET " + fixture_->status_url() + ": ", 0), 0u)
        << servers.error().message;
    EXPECT_NE(servers.error().message.find(says), std::string::npos) << servers.error().message;
    EXPECT_EQ(servers.error().message.find('\n'), std::string::npos) << servers.error().message;
    EXPECT_LT(took, 2 * timeout);
    EXPECT_EQ(fixture_->status_requests(), requests + 1);
  }

  std::unique_ptr<ExhibitorFixture> fixture_;
};

TEST_F(ExhibitorFaultTest, BytesThatAreNotHttp) {
  expect_failure(Mode::kGarbage, "the reply is not HTTP");
}

TEST_F(ExhibitorFaultTest, ABodyThatIsNotJson) {
  expect_failure(Mode::kNotJson, "the body is not JSON: \"<html>");
}

TEST_F(ExhibitorFaultTest, AnHttpError) {
  expect_failure(Mode::kHttp500, "HTTP 500, body \"java.lang.NullPointerException\\n\"");
}

TEST_F(ExhibitorFaultTest, AServerThatNeverAnswersTimesOut) {
  auto start = std::chrono::steady_clock::now();
  expect_failure(Mode::kSilent, "connected, but no complete answer within 800 ms", 800ms);
  EXPECT_GE(elapsed_since(start), 750ms);
}

TEST_F(ExhibitorFaultTest, AServerThatClosesWithoutAnswering) {
  expect_failure(Mode::kCloseWithoutReply, "the server closed the connection without answering");
}

TEST_F(ExhibitorFaultTest, ARedirectIsReportedNotFollowed) {
  expect_failure(Mode::kRedirect,
                 "HTTP 302 redirects to \"http://exhibitor.invalid:8181/exhibitor/v1/cluster/"
                 "status\"; redirects are not followed");
}

TEST_F(ExhibitorFaultTest, ABodyOverTheBoundIsRefused) {
  fixture_->set_mode(Mode::kNotJson);
  auto servers = health::get_exhibitor_status(
      health::ExhibitorEndpoint(fixture_->status_url()), {1s, 1s, 16});
  ASSERT_FALSE(servers);
  EXPECT_NE(servers.error().message.find("the body exceeds 16 bytes"), std::string::npos)
      << servers.error().message;
}

TEST_F(ExhibitorFaultTest, AnotherPathIsNotFound) {
  std::string url = "http://127.0.0.1:" + std::to_string(fixture_->port()) + "/exhibitor/v1/x";
  auto servers = health::get_exhibitor_status(health::ExhibitorEndpoint(url), {1s, 1s});
  ASSERT_FALSE(servers);
  EXPECT_NE(servers.error().message.find("GET " + url + ": HTTP 404"), std::string::npos)
      << servers.error().message;
}

TEST_F(ExhibitorFaultTest, EachFaultReadsDifferently) {
  std::set<std::string> messages;
  for (Mode mode : {Mode::kGarbage, Mode::kNotJson, Mode::kHttp500, Mode::kSilent,
                    Mode::kCloseWithoutReply, Mode::kRedirect}) {
    fixture_->set_mode(mode);
    auto servers = health::get_exhibitor_status(
        health::ExhibitorEndpoint(fixture_->status_url()), {500ms, 500ms});
    ASSERT_FALSE(servers);
    messages.insert(servers.error().message);
  }
  EXPECT_EQ(messages.size(), 6u);
}

TEST(ExhibitorClient, AnUnreachableUrlIsRefused) {
  int port = unused_port();
  ASSERT_NE(port, 0);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + ExhibitorFixture::kStatusPath;
  auto start = std::chrono::steady_clock::now();
  auto servers = health::get_exhibitor_status(health::ExhibitorEndpoint(url), {2s, 2s});
  ASSERT_FALSE(servers);
  EXPECT_LT(elapsed_since(start), 2s);
  EXPECT_EQ(servers.error().kind, ErrorKind::Unhealthy);
  EXPECT_EQ(servers.error().message, "GET " + url + ": cannot connect: Connection refused");
}

TEST(ExhibitorClient, AnUnknownHostIsReported) {
  std::string url = "http://zk-tool-test.invalid:8181/exhibitor/v1/cluster/status";
  auto servers = health::get_exhibitor_status(health::ExhibitorEndpoint(url), {2s, 2s});
  ASSERT_FALSE(servers);
  EXPECT_NE(servers.error().message.find("GET " + url + ": cannot resolve the host"),
            std::string::npos)
      << servers.error().message;
}

TEST(ExhibitorClient, ANonHttpUrlIsAUsageError) {
  for (const char* url : {"ftp://localhost/exhibitor", "localhost:8181", "not a url at all"}) {
    auto servers = health::get_exhibitor_status(health::ExhibitorEndpoint(url));
    ASSERT_FALSE(servers) << url;
    EXPECT_EQ(servers.error().kind, ErrorKind::Usage) << url;
  }
}

}  // namespace
}  // namespace zktool::testsupport
