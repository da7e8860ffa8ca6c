#include "ops/remote_archive.h"

#include "storage/s3_client.h"

namespace zktool {

namespace fs = std::filesystem;

namespace {

Result<storage::S3Client> connect(const storage::AwsSettings& aws) {
  auto resolved = storage::resolve_aws(aws, storage::AwsEnvironment::from_process());
  if (!resolved) return resolved.error();
  if (!resolved->credentials) {
    return make_error(ErrorKind::Usage,
                      "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give "
                      "a profile of the shared credentials file (--aws-profile, AWS_PROFILE); the "
                      "EC2 instance role is not asked yet");
  }
  return storage::S3Client(resolved->endpoint, *resolved->credentials);
}

}  // namespace

Result<std::optional<S3Url>> parse_s3_url(const std::string& given) {
  constexpr std::string_view kScheme = "s3://";
  if (!given.starts_with(kScheme)) return std::optional<S3Url>();
  const std::string rest = given.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string::npos || slash + 1 == rest.size()) {
    return make_error(ErrorKind::Usage, given + " is not s3://BUCKET/KEY");
  }
  return std::optional<S3Url>(S3Url{rest.substr(0, slash), rest.substr(slash + 1)});
}

Result<LocalArchive> fetch_archive(const std::string& given, const fs::path& staging_parent,
                                   const storage::AwsSettings& aws) {
  auto url = parse_s3_url(given);
  if (!url) return url.error();
  if (!*url) return LocalArchive{std::nullopt, given};
  auto client = connect(aws);
  if (!client) return client.error();
  auto scratch = ScratchDirectory::create(staging_parent, ".zk-tool-fetch-");
  if (!scratch) return scratch.error();
  // The object's own name, so that what is reported of the file reads as the archive's.
  const fs::path name = fs::path((*url)->key).filename();
  if (name.empty()) return make_error(ErrorKind::Usage, given + " names no object (it ends in /)");
  const fs::path file = scratch->path() / name;
  if (Status got = client->get_to_file((*url)->bucket, (*url)->key, file); !got) {
    return scratch->named(got.error());
  }
  return LocalArchive{std::move(scratch.value()), file};
}

Status upload_archive(const fs::path& local, const S3Url& url, const storage::AwsSettings& aws) {
  auto client = connect(aws);
  Status uploaded = client ? client->put_file(url.bucket, url.key, local) : Status(client.error());
  if (!uploaded) {
    return make_error(uploaded.error().kind, uploaded.error().message + "; the proven archive is kept at " +
                                                 local.string());
  }
  std::error_code ec;
  fs::remove(local, ec);
  return Ok{};
}

}  // namespace zktool
