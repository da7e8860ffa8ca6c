// Archives named `s3://BUCKET/KEY` wherever a command takes an archive: a
// reader fetches the object into a scratch directory first and proves it
// there as it would a local file, so nothing live is touched before the
// bytes are local and checked; a writer writes and proves the archive
// locally, then uploads it (storage/s3_client.h), and keeps the local copy if
// the upload fails. The store and credentials are resolved as the AWS tools
// resolve them (storage/aws_config.h).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "storage/aws_config.h"
#include "util/file_ops.h"
#include "util/result.h"

namespace zktool {

struct S3Url {
  std::string bucket;
  std::string key;
  std::string text() const { return "s3://" + bucket + "/" + key; }
};

// Whether `given` names an object ("s3://..."); then it must be a bucket and a
// key (ErrorKind::Usage otherwise).
Result<std::optional<S3Url>> parse_s3_url(const std::string& given);

// An archive a command can read from the local file system.
struct LocalArchive {
  std::optional<ScratchDirectory> scratch;  // holds the download; removed with this object
  std::filesystem::path path;
};

// `given` itself when it is a local path; else the object downloaded into a
// new scratch directory under `staging_parent`.
Result<LocalArchive> fetch_archive(const std::string& given,
                                   const std::filesystem::path& staging_parent,
                                   const storage::AwsSettings& aws);

// Uploads the proven archive at `local` as `url`, then removes `local`; a
// failed upload leaves no object under the key (an abandoned multipart
// upload is aborted) and keeps `local`, saying where.
Status upload_archive(const std::filesystem::path& local, const S3Url& url,
                      const storage::AwsSettings& aws);

}  // namespace zktool
