// Exhibitor as DC/OS serves it, through the zk-tool binary: HTTPS verified
// against a CA bundle, a client certificate the server requires, and a token.
// The fixture serves real TLS (OpenSSL) with certificates made here at test
// time (test_pki.h): a CA, a server certificate for 127.0.0.1 and localhost,
// a client certificate, a second unrelated CA, and expired certificates.
// Each failure is one line on stderr with its own exit code; the token never
// shows. The token file's reader is tested on its own at the end.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/files.h"
#include "exhibitor/exhibitor_fixture.h"
#include "exhibitor/test_pki.h"
#include "health/exhibitor_access.h"
#include "health_test_support.h"

namespace zktool::testsupport {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Access = ExhibitorFixture::Access;
using Tls = ExhibitorFixture::Tls;

constexpr const char* kToken = "eyJhbGciOiJSUzI1NiJ9.service-account.s3cr3t-signature";
const std::vector<std::string> kLocalNames = {"127.0.0.1", "localhost"};

size_t lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Everything the tests present and trust, made once for the suite.
struct Pki {
  testing::TempDir dir;
  std::optional<TestCa> ca, other_ca;
  CertFiles server, expired_server, other_host_server, client, expired_client, other_ca_client;
  fs::path token_file, wrong_token_file;
};

Pki* g_pki = nullptr;

void make_pki() {
  auto pki = std::make_unique<Pki>();
  auto ca = TestCa::create(pki->dir.path(), "cluster-ca");
  auto other = TestCa::create(pki->dir.path(), "unrelated-ca");
  ASSERT_TRUE(ca) << ca.error().message;
  ASSERT_TRUE(other) << other.error().message;
  pki->ca.emplace(std::move(*ca));
  pki->other_ca.emplace(std::move(*other));
  struct Made {
    CertFiles* files;
    const TestCa* by;
    const char* name;
    CertUse use;
    std::vector<std::string> sans;
    std::chrono::seconds from, to;
  };
  const std::vector<Made> made = {
      {&pki->server, &*pki->ca, "server", CertUse::kServer, kLocalNames, -1h, 24h},
      {&pki->expired_server, &*pki->ca, "expired-server", CertUse::kServer, kLocalNames, -48h,
       -24h},
      {&pki->other_host_server, &*pki->ca, "other-host-server", CertUse::kServer,
       {"exhibitor.invalid"}, -1h, 24h},
      {&pki->client, &*pki->ca, "client", CertUse::kClient, {}, -1h, 24h},
      {&pki->expired_client, &*pki->ca, "expired-client", CertUse::kClient, {}, -48h, -24h},
      {&pki->other_ca_client, &*pki->other_ca, "other-ca-client", CertUse::kClient, {}, -1h, 24h},
  };
  for (const Made& m : made) {
    auto files = m.by->issue(m.name, m.use, m.sans, m.from, m.to);
    ASSERT_TRUE(files) << files.error().message;
    *m.files = *files;
  }
  pki->token_file = pki->dir.path() / "token";
  testing::write_file(pki->token_file, std::string(kToken) + "\n");
  pki->wrong_token_file = pki->dir.path() / "wrong-token";
  testing::write_file(pki->wrong_token_file, "not-the-token\n");
  g_pki = pki.release();
}

void drop_pki() {
  delete g_pki;
  g_pki = nullptr;
}

class ExhibitorTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { make_pki(); }
  static void TearDownTestSuite() { drop_pki(); }
  void SetUp() override { ASSERT_NE(g_pki, nullptr) << "the test PKI was not made"; }

  const Pki& pki() const { return *g_pki; }

  // A fixture over `nodes` (none: the answer is "[]", enough where the
  // request fails first) serving HTTPS with `server`.
  std::unique_ptr<ExhibitorFixture> serve(const CertFiles& server, bool require_client_cert,
                                          bool require_token,
                                          std::vector<health::Endpoint> nodes = {}) {
    Access access;
    access.tls = Tls{server.cert, server.key,
                     require_client_cert ? pki().ca->cert_file() : fs::path()};
    if (require_token) access.token = kToken;
    auto fixture = ExhibitorFixture::start(std::move(nodes), 0, 2s, access);
    EXPECT_TRUE(fixture) << fixture.error().message;
    return fixture ? std::move(*fixture) : nullptr;
  }

  // `zk-tool status` against `url` with `extra` options.
  ZkToolRun status(const std::string& url, std::vector<std::string> extra) const {
    std::vector<std::string> args = {"status", "--exhibitor-url", url, "--timeout", "3s"};
    args.insert(args.end(), extra.begin(), extra.end());
    return zk_tool(args);
  }

  std::vector<std::string> trusted() const { return {"--exhibitor-ca", pki().ca->cert_file()}; }
  std::vector<std::string> as_client(const CertFiles& files) const {
    return {"--exhibitor-cert", files.cert, "--exhibitor-key", files.key};
  }
  static std::vector<std::string> all(std::initializer_list<std::vector<std::string>> parts) {
    std::vector<std::string> joined;
    for (const auto& part : parts) joined.insert(joined.end(), part.begin(), part.end());
    return joined;
  }

  // One line on stderr, "zk-tool status: GET <url>: <says>...", exit `code`,
  // nothing on stdout, and no token anywhere.
  static void expect_failure(const ZkToolRun& run, int code, const std::string& url,
                             const std::vector<std::string>& says) {
    EXPECT_EQ(run.exit_code, code) << run.err;
    EXPECT_EQ(lines(run.err), 1u) << run.err;
    EXPECT_TRUE(run.out.empty()) << run.out;
    EXPECT_TRUE(run.err.starts_with("zk-tool status: GET " + url + ": ")) << run.err;
    for (const std::string& part : says) EXPECT_TRUE(has(run.err, part)) << part << "\n" << run.err;
    EXPECT_FALSE(has(run.out + run.err, kToken)) << run.err;
  }
};

class ExhibitorTlsLive : public LiveEnsembleTest {
 protected:
  static void SetUpTestSuite() { make_pki(); }
  static void TearDownTestSuite() { drop_pki(); }
};

// DC/OS Enterprise with everything on: the CA bundle, the client certificate,
// the token; given in zk-tool.conf, as on a master. --json shows no token.
TEST_F(ExhibitorTlsLive, TheRightCaClientCertificateAndTokenGiveTheMembers) {
  ASSERT_NE(g_pki, nullptr) << "the test PKI was not made";
  const Pki& pki = *g_pki;
  Access access;
  access.tls = Tls{pki.server.cert, pki.server.key, pki.ca->cert_file()};
  access.token = kToken;
  auto fixture = ExhibitorFixture::start(endpoints(), 0, 2s, access);
  ASSERT_TRUE(fixture) << fixture.error().message;
  const std::string url = (*fixture)->status_url();
  ASSERT_TRUE(url.starts_with("https://127.0.0.1:")) << url;
  const fs::path conf = dir_ / "zk-tool.conf";
  testing::write_file(conf, "exhibitor-url = " + url + "\nexhibitor-ca = " +
                                pki.ca->cert_file().string() + "\nexhibitor-cert = " +
                                pki.client.cert.string() + "\nexhibitor-key = " +
                                pki.client.key.string() + "\nexhibitor-token-file = " +
                                pki.token_file.string() + "\n");
  for (bool json : {false, true}) {
    std::vector<std::string> args = {"status", "--config", conf.string(), "--timeout", "3s"};
    if (json) args.push_back("--json");
    auto run = zk_tool(args);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_TRUE(run.err.empty()) << run.err;
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(has(run.out, ensemble_->node(i).client_address()))
          << run.out;
    }
    EXPECT_TRUE(has(run.out, json ? "\"healthy\": true" : "healthy: 3 of 3 members serving"))
        << run.out;
    EXPECT_FALSE(has(run.out + run.err, kToken)) << run.out;
  }
  EXPECT_EQ((*fixture)->status_requests(), 2u);
}

TEST_F(ExhibitorTls, AServerCertificateFromAnotherCaExitsNine) {
  auto fixture = serve(pki().server, false, false);
  ASSERT_TRUE(fixture);
  std::string url = fixture->status_url();
  auto run = status(url, {"--exhibitor-ca", pki().other_ca->cert_file()});
  expect_failure(run, 9, url,
                 {"the server's certificate is not trusted (SSL certificate problem: unable to "
                  "get local issuer certificate; checked against " +
                  pki().other_ca->cert_file().string() + ")"});
  // Without --exhibitor-ca the system's store is used, which knows neither CA.
  run = status(url, {});
  expect_failure(run, 9, url, {"not trusted", "checked against the system's CAs"});
}

TEST_F(ExhibitorTls, AnExpiredServerCertificateExitsNine) {
  auto fixture = serve(pki().expired_server, false, false);
  ASSERT_TRUE(fixture);
  auto run = status(fixture->status_url(), trusted());
  expect_failure(run, 9, fixture->status_url(),
                 {"not trusted (SSL certificate problem: certificate has expired"});
}

TEST_F(ExhibitorTls, AServerCertificateForAnotherHostExitsNine) {
  auto fixture = serve(pki().other_host_server, false, false);
  ASSERT_TRUE(fixture);
  auto run = status(fixture->status_url(), trusted());
  expect_failure(run, 9, fixture->status_url(),
                 {"not trusted (", "subject name matches target host name '127.0.0.1'"});
}

TEST_F(ExhibitorTls, AClientCertificateTheServerRefusesExitsTen) {
  auto fixture = serve(pki().server, true, false);
  ASSERT_TRUE(fixture);
  std::string url = fixture->status_url();
  auto run = status(url, trusted());
  expect_failure(run, 10, url, {"the server requires a client certificate and none was given (",
                                "alert certificate required"});
  run = status(url, all({trusted(), as_client(pki().expired_client)}));
  expect_failure(run, 10, url,
                 {"the server refused the client certificate " + pki().expired_client.cert.string(),
                  "alert certificate expired"});
  run = status(url, all({trusted(), as_client(pki().other_ca_client)}));
  expect_failure(run, 10, url,
                 {"the server refused the client certificate " +
                  pki().other_ca_client.cert.string()});
  EXPECT_EQ(fixture->status_requests(), 0u);  // no request got past the handshake
}

// A TLS 1.2 server sends its alert inside the handshake: the same exit code.
TEST_F(ExhibitorTls, AClientCertificateATls12ServerRefusesExitsTen) {
  Access access;
  access.tls = Tls{pki().server.cert, pki().server.key, pki().ca->cert_file(), true};
  auto fixture = ExhibitorFixture::start({}, 0, 2s, access);
  ASSERT_TRUE(fixture) << fixture.error().message;
  std::string url = (*fixture)->status_url();
  auto run = status(url, all({trusted(), as_client(pki().expired_client)}));
  expect_failure(run, 10, url,
                 {"the server refused the client certificate " + pki().expired_client.cert.string(),
                  "certificate expired"});
  run = status(url, all({trusted(), as_client(pki().other_ca_client)}));
  expect_failure(run, 10, url,
                 {"the server refused the client certificate " +
                      pki().other_ca_client.cert.string(),
                  "alert unknown ca"});
  run = status(url, all({trusted(), as_client(pki().client)}));
  EXPECT_EQ(run.exit_code, 6) << run.err;  // accepted: the empty answer is no healthy ensemble
  EXPECT_TRUE(has(run.err, "ensemble not healthy (" + url + "): no members")) << run.err;
}

TEST_F(ExhibitorTls, AWrongOrMissingTokenExitsTen) {
  auto fixture = serve(pki().server, false, true);
  ASSERT_TRUE(fixture);
  std::string url = fixture->status_url();
  auto run = status(url, all({trusted(), {"--exhibitor-token-file", pki().wrong_token_file}}));
  expect_failure(run, 10, url, {"HTTP 401: the server refused the token"});
  EXPECT_FALSE(has(run.err, "not-the-token")) << run.err;
  run = status(url, trusted());
  expect_failure(run, 10, url, {"HTTP 401: the server asks for a token and none was given"});
}

TEST_F(ExhibitorTls, ATokenOverPlainHttpIsRefusedBeforeAnythingIsSent) {
  auto fixture = ExhibitorFixture::start({});
  ASSERT_TRUE(fixture) << fixture.error().message;
  std::string url = (*fixture)->status_url();
  ASSERT_TRUE(url.starts_with("http://")) << url;
  auto run = status(url, {"--exhibitor-token-file", pki().token_file});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.err, "zk-tool status: Exhibitor URL \"" + url +
                         "\": a token is sent only over https, never over plain http\n");
  EXPECT_EQ((*fixture)->status_requests(), 0u);
}

TEST_F(ExhibitorTls, FilesItCannotUseNameTheFile) {
  auto fixture = serve(pki().server, false, false);
  ASSERT_TRUE(fixture);
  std::string url = fixture->status_url();
  const fs::path missing = pki().dir.path() / "absent-ca.crt";
  auto run = status(url, {"--exhibitor-ca", missing});
  EXPECT_EQ(run.exit_code, 4) << run.err;
  EXPECT_EQ(run.err, "zk-tool status: " + missing.string() +
                         ": cannot read: No such file or directory\n");

  const fs::path garbage = pki().dir.path() / "garbage-ca.crt";
  testing::write_file(garbage, "not a certificate\n");
  run = status(url, {"--exhibitor-ca", garbage});
  expect_failure(run, 2, url, {"the CA bundle " + garbage.string() + " cannot be used ("});

  run = status(url, all({trusted(), {"--exhibitor-key", pki().client.key}}));
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.err, "zk-tool status: --exhibitor-cert and --exhibitor-key go together: give "
                     "both or neither\n");

  run = status(url, all({trusted(), {"--exhibitor-token-file", missing}}));
  EXPECT_EQ(run.exit_code, 4) << run.err;
  EXPECT_EQ(lines(run.err), 1u) << run.err;
  EXPECT_TRUE(has(run.err, missing.string())) << run.err;
}

TEST(ExhibitorOptions, ThereIsNoInsecureSwitch) {
  for (const char* flag : {"--exhibitor-insecure", "--insecure", "--exhibitor-no-verify", "-k"}) {
    auto run = zk_tool({"status", flag});
    EXPECT_EQ(run.exit_code, 2) << flag << ": " << run.err;
  }
}

// The token file's reader.
class TokenFile : public ::testing::Test {
 protected:
  Result<std::string> read(const std::string& content) {
    testing::write_file(file_, content);
    return health::read_token_file(file_);
  }
  void expect_refused(const Result<std::string>& token, ErrorKind kind, const std::string& says) {
    ASSERT_FALSE(token);
    EXPECT_EQ(token.error().kind, kind);
    EXPECT_EQ(token.error().message, file_.string() + ": " + says);
  }
  testing::TempDir dir_;
  fs::path file_ = dir_.path() / "token";
};

TEST_F(TokenFile, StripsTheTrailingNewlineOnly) {
  for (const std::string& content : {std::string("abc.def"), std::string("abc.def\n"),
                                     std::string("abc.def\r\n")}) {
    auto token = read(content);
    ASSERT_TRUE(token) << token.error().message;
    EXPECT_EQ(*token, "abc.def");
  }
}

TEST_F(TokenFile, RefusesEmptyMultiLineAndTooLargeWithoutShowingThem) {
  expect_refused(read(""), ErrorKind::Usage, "is empty: no token");
  expect_refused(read("\n"), ErrorKind::Usage, "is empty: no token");
  expect_refused(read("secret-one\nsecret-two\n"), ErrorKind::Usage,
                 "is not one line of printable text");
  expect_refused(read("secret\r\nInjected: header"), ErrorKind::Usage,
                 "is not one line of printable text");
  auto largest = read(std::string(health::kMaxTokenFileBytes, 'x'));
  ASSERT_TRUE(largest) << largest.error().message;
  EXPECT_EQ(largest->size(), health::kMaxTokenFileBytes);
  expect_refused(read(std::string(health::kMaxTokenFileBytes + 1, 'x')), ErrorKind::Usage,
                 "is larger than 65536 bytes: not a token");
}

TEST_F(TokenFile, RefusesALinkAndWhatIsNotAFile) {
  testing::write_file(dir_.path() / "real", "secret\n");
  fs::create_symlink(dir_.path() / "real", file_);
  expect_refused(health::read_token_file(file_), ErrorKind::Usage,
                 "is a symbolic link; a token is read only from the file itself");
  fs::remove(file_);
  fs::create_directory(file_);
  expect_refused(health::read_token_file(file_), ErrorKind::Usage, "is not a regular file");
  fs::remove(file_);
  ASSERT_EQ(::mkfifo(file_.c_str(), 0600), 0);  // opened without blocking, then refused
  expect_refused(health::read_token_file(file_), ErrorKind::Usage, "is not a regular file");
  fs::remove(file_);
  expect_refused(health::read_token_file(file_), ErrorKind::Io,
                 "cannot read: No such file or directory");
}

}  // namespace
}  // namespace zktool::testsupport
