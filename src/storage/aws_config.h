// Where an S3-compatible store is and who zk-tool is to it, found the way the
// AWS CLI and SDKs find them, so that AWS S3, Ceph RGW and MinIO need no
// zk-tool-specific setting:
//
// - endpoint: zk-tool's own (--s3-endpoint), else AWS_ENDPOINT_URL_S3, else
//   AWS_ENDPOINT_URL, else the profile's `endpoint_url`, else AWS's regional
//   endpoint https://s3.<region>.amazonaws.com;
// - region: zk-tool's own, else AWS_REGION, else AWS_DEFAULT_REGION, else the
//   profile's `region`, else us-east-1;
// - addressing: path-style (http://host/bucket/key) for an endpoint that is
//   an IP address or localhost, or when asked (zk-tool's own flag, or the
//   profile's `s3 =` / `addressing_style = path`); else virtual-hosted;
// - credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with
//   AWS_SESSION_TOKEN), else the shared credentials file's profile
//   (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials, section [NAME]),
//   else the shared config file's (AWS_CONFIG_FILE, else ~/.aws/config,
//   section [profile NAME], or [default]); none found means the caller asks
//   the EC2 instance role.
// The profile is zk-tool's own (--aws-profile), else AWS_PROFILE, else
// "default". Secrets never appear in an error message.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "util/result.h"

namespace zktool::storage {

// zk-tool's own settings (flags and zk-tool.conf keys); each unset one falls back as above.
struct AwsSettings {
  std::optional<std::string> profile;
  std::optional<std::string> endpoint;
  std::optional<std::string> region;
  bool path_style = false;
};

// What the resolution reads besides the files: the process's variables, or a test's.
struct AwsEnvironment {
  std::map<std::string, std::string> variables;
  // The variables above that are set in this process (HOME among them).
  static AwsEnvironment from_process();
};

struct S3Endpoint {
  std::string url;     // scheme and authority, no trailing slash: "https://s3.eu-west-1.amazonaws.com"
  std::string region;  // what requests are signed for
  bool path_style = false;
};

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::optional<std::string> session_token;
  std::string source;  // where they came from, for messages: "the environment", a file and section
};

struct AwsResolution {
  S3Endpoint endpoint;
  std::optional<S3Credentials> credentials;  // nullopt: ask the EC2 instance role
};

// ErrorKind::Usage naming the file and line for a malformed shared file, a
// profile named explicitly that neither file has, credentials given by half
// (a key id without its secret), or an endpoint that is not an http(s) URL;
// ErrorKind::Io for a shared file that exists but cannot be read.
Result<AwsResolution> resolve_aws(const AwsSettings& settings, const AwsEnvironment& environment);

}  // namespace zktool::storage
