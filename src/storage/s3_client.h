// The S3 requests zk-tool makes, over libcurl with its AWS Signature V4
// signing (CURLOPT_AWS_SIGV4): every request carries x-amz-content-sha256
// (the payload's SHA-256, which the store checks, or UNSIGNED-PAYLOAD where
// there is none to check), query parameters already sorted and RFC 3986
// encoded, and no Date header, which libcurl 7.88's signer needs.
//
// Transient failures (a connection refused, reset or stalled, a timeout,
// HTTP 500, 502, 503, 504, 429, and S3's RequestTimeout) are retried with
// exponential backoff and full jitter until the policy's deadline; a request
// is only ever retried whole. Other failures are one error naming the method,
// bucket, key and S3's error code: 401/403 as ErrorKind::CredentialsRefused,
// a missing bucket or key as ErrorKind::Io, and a store that never answered
// well within the deadline as ErrorKind::StoreUnavailable. Secrets and
// signatures never appear in an error.
//
// A client is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "storage/aws_config.h"
#include "util/result.h"

namespace zktool::storage {

struct RetryPolicy {
  std::chrono::milliseconds deadline{std::chrono::minutes(5)};  // for one request, retries included
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(20)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // A transfer slower than 1 byte/s for this long is a stall: given up and retried.
  std::chrono::seconds stall_timeout{30};
};

struct S3Object {
  std::string key;
  uint64_t size = 0;
  std::string last_modified;  // as the store gives it: "2026-11-21T20:30:00.000Z"
};

struct MultipartUpload {
  std::string key;
  std::string upload_id;
  std::string initiated;
};

class S3Client {
 public:
  S3Client(S3Endpoint endpoint, S3Credentials credentials, RetryPolicy retry = {});
  S3Client(S3Client&&) noexcept;
  S3Client& operator=(S3Client&&) noexcept;
  ~S3Client();

  // Uploads `file` as `key`: one PUT when it is at most `part_size` bytes,
  // else a multipart upload of `part_size` parts, each signed with its own
  // SHA-256 so that the store refuses a part damaged on the way. The object
  // exists under `key` only once the upload completed; a failed multipart
  // upload is aborted before the error returns.
  Status put_file(const std::string& bucket, const std::string& key,
                  const std::filesystem::path& file, uint64_t part_size = uint64_t{64} << 20);

  // Writes the object into `to`, a new file (O_EXCL), and checks it holds as
  // many bytes as the store said. A failed download removes it.
  Status get_to_file(const std::string& bucket, const std::string& key,
                     const std::filesystem::path& to);

  // Every object whose key starts with `prefix`, in key order (all pages).
  Result<std::vector<S3Object>> list(const std::string& bucket, const std::string& prefix);

  // Deletes `key`; a key already gone is not an error.
  Status remove(const std::string& bucket, const std::string& key);

  // Multipart uploads begun and never completed or aborted under `prefix`.
  Result<std::vector<MultipartUpload>> list_uploads(const std::string& bucket,
                                                    const std::string& prefix);
  Status abort_upload(const std::string& bucket, const MultipartUpload& upload);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zktool::storage
