// Where an S3 store is and who zk-tool is to it (storage/aws_config.h), table
// by table as the AWS tools resolve them: zk-tool's own settings, then the
// environment, then the shared files' profile, then AWS's defaults; with rows
// of bad input, none of which may show a secret.
#include "storage/aws_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/files.h"

namespace zktool::storage {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

class AwsConfigTest : public ::testing::Test {
 protected:
  AwsEnvironment env(std::map<std::string, std::string> variables = {}) const {
    variables.emplace("HOME", home_.path().string());
    return AwsEnvironment{std::move(variables)};
  }
  void config(const std::string& text) { write_file(home_.path() / ".aws" / "config", text); }
  void credentials(const std::string& text) {
    write_file(home_.path() / ".aws" / "credentials", text);
  }

  TempDir home_;
};

TEST_F(AwsConfigTest, WithNothingSetItIsAwsInUsEast1AndTheInstanceRole) {
  auto r = resolve_aws({}, env());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->endpoint.url, "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(r->endpoint.region, "us-east-1");
  EXPECT_FALSE(r->endpoint.path_style);
  EXPECT_FALSE(r->credentials);
}

TEST_F(AwsConfigTest, EachSourceOfTheEndpointAndRegionWinsOverTheNext) {
  config("[default]\nregion = eu-west-1\nendpoint_url = https://files.example.com/\n"
         "[profile ceph]\nregion = default\nendpoint_url = http://10.0.0.5:7480\n");
  const struct {
    const char* what;
    AwsSettings settings;
    std::map<std::string, std::string> variables;
    std::string url, region;
    bool path_style;
  } rows[] = {
      {"the default profile", {}, {}, "https://files.example.com", "eu-west-1", false},
      {"a named profile", {"ceph", {}, {}, false}, {}, "http://10.0.0.5:7480", "default", true},
      {"AWS_PROFILE", {}, {{"AWS_PROFILE", "ceph"}}, "http://10.0.0.5:7480", "default", true},
      {"AWS_DEFAULT_REGION over the profile", {}, {{"AWS_DEFAULT_REGION", "ap-south-1"}},
       "https://files.example.com", "ap-south-1", false},
      {"AWS_REGION over AWS_DEFAULT_REGION", {},
       {{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "ap-south-1"}},
       "https://files.example.com", "us-west-2", false},
      {"AWS_ENDPOINT_URL over the profile", {}, {{"AWS_ENDPOINT_URL", "http://localhost:9000"}},
       "http://localhost:9000", "eu-west-1", true},
      {"AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL", {},
       {{"AWS_ENDPOINT_URL", "http://localhost:9000"},
        {"AWS_ENDPOINT_URL_S3", "https://minio.internal"}},
       "https://minio.internal", "eu-west-1", false},
      {"zk-tool's own over everything", {{}, "https://rgw.dc1:8443", "dc1", true},
       {{"AWS_ENDPOINT_URL_S3", "https://minio.internal"}, {"AWS_REGION", "us-west-2"}},
       "https://rgw.dc1:8443", "dc1", true},
      {"an IPv6 literal is path-style", {}, {{"AWS_ENDPOINT_URL", "http://[::1]:7480"}},
       "http://[::1]:7480", "eu-west-1", true},
  };
  for (const auto& row : rows) {
    auto r = resolve_aws(row.settings, env(row.variables));
    ASSERT_TRUE(r) << row.what << ": " << r.error().message;
    EXPECT_EQ(r->endpoint.url, row.url) << row.what;
    EXPECT_EQ(r->endpoint.region, row.region) << row.what;
    EXPECT_EQ(r->endpoint.path_style, row.path_style) << row.what;
  }
}

TEST_F(AwsConfigTest, AProfileCanAskForPathStyleAddressing) {
  config("[profile onprem]\nendpoint_url = https://s3.dc1.example.com\ns3 =\n"
         "  addressing_style = path\n");
  auto r = resolve_aws({"onprem", {}, {}, false}, env());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->endpoint.path_style);
}

TEST_F(AwsConfigTest, CredentialsComeFromTheEnvironmentThenTheCredentialsFileThenTheConfig) {
  credentials("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n"
              "[backup]\naws_access_key_id = BACKUPKEY\naws_secret_access_key = backupsecret\n"
              "aws_session_token = backuptoken\n");
  config("[profile cfgonly]\naws_access_key_id = CFGKEY\naws_secret_access_key = cfgsecret\n");
  const struct {
    const char* what;
    std::optional<std::string> profile;
    std::map<std::string, std::string> variables;
    std::string id, secret;
    std::optional<std::string> token;
  } rows[] = {
      {"the environment", {}, {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                               {"AWS_SESSION_TOKEN", "envtoken"}},
       "ENVKEY", "envsecret", "envtoken"},
      {"the credentials file's default", {}, {}, "FILEKEY", "filesecret", std::nullopt},
      {"its named profile, token included", "backup", {}, "BACKUPKEY", "backupsecret",
       "backuptoken"},
      {"the config file's profile", "cfgonly", {}, "CFGKEY", "cfgsecret", std::nullopt},
  };
  for (const auto& row : rows) {
    auto r = resolve_aws({row.profile, {}, {}, false}, env(row.variables));
    ASSERT_TRUE(r) << row.what << ": " << r.error().message;
    ASSERT_TRUE(r->credentials) << row.what;
    EXPECT_EQ(r->credentials->access_key_id, row.id) << row.what;
    EXPECT_EQ(r->credentials->secret_access_key, row.secret) << row.what;
    EXPECT_EQ(r->credentials->session_token, row.token) << row.what;
  }
  // Another place for the files, as the variables say.
  write_file(home_.path() / "elsewhere", "[default]\naws_access_key_id = ELSEKEY\n"
                                         "aws_secret_access_key = elsesecret\n");
  auto moved = resolve_aws({}, env({{"AWS_SHARED_CREDENTIALS_FILE",
                                     (home_.path() / "elsewhere").string()}}));
  ASSERT_TRUE(moved && moved->credentials);
  EXPECT_EQ(moved->credentials->access_key_id, "ELSEKEY");
  EXPECT_NE(moved->credentials->source.find("elsewhere"), std::string::npos);
}

TEST_F(AwsConfigTest, BadInputIsOneUsageLineThatShowsNoSecret) {
  const struct {
    const char* what;
    std::string config, credentials;
    AwsSettings settings;
    std::map<std::string, std::string> variables;
    std::string says;
  } rows[] = {
      {"a profile named that neither file has", "", "", {"missing", {}, {}, false}, {},
       "AWS profile missing is in neither"},
      {"a line that is not a setting", "[default]\nregion eu-west-1\n", "", {}, {},
       "config:2: expected name = value"},
      {"a setting before any section", "region = eu-west-1\n", "", {}, {},
       "config:1: a setting before any [section]"},
      {"an unclosed section", "[default\n", "", {}, {}, "config:1: a section header must end"},
      {"a key id without its secret", "", "[default]\naws_access_key_id = HALFKEY\n", {}, {},
       "aws_access_key_id without aws_secret_access_key"},
      {"a secret without its key id", "", "", {}, {{"AWS_SECRET_ACCESS_KEY", "halfsecret"}},
       "AWS_SECRET_ACCESS_KEY without AWS_ACCESS_KEY_ID"},
      {"an endpoint that is not a URL", "", "", {{}, "s3.example.com", {}, false}, {},
       "is not an http:// or https:// URL"},
  };
  for (const auto& row : rows) {
    fs::remove_all(home_.path() / ".aws");
    if (!row.config.empty()) config(row.config);
    if (!row.credentials.empty()) credentials(row.credentials);
    auto r = resolve_aws(row.settings, env(row.variables));
    ASSERT_FALSE(r) << row.what;
    EXPECT_EQ(r.error().kind, ErrorKind::Usage) << row.what;
    EXPECT_NE(r.error().message.find(row.says), std::string::npos)
        << row.what << ": " << r.error().message;
    EXPECT_EQ(r.error().message.find("secret "), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("halfsecret"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
  // A shared file that exists but cannot be read is the file system's refusal.
  fs::remove_all(home_.path() / ".aws");
  fs::create_directories(home_.path() / ".aws" / "config");
  auto unreadable = resolve_aws({}, env());
  ASSERT_FALSE(unreadable);
  EXPECT_EQ(unreadable.error().kind, ErrorKind::Io);
}

}  // namespace
}  // namespace zktool::storage
