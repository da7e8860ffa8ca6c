#include "storage/s3_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "util/sha256.h"
#include "util/unique_fd.h"

namespace zktool::storage {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr size_t kMaxReplyBody = 16 << 20;  // listings and errors; objects go to a file
constexpr size_t kIoBlock = 1 << 20;

// --- Text ---

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// RFC 3986 percent-encoding, as SigV4 canonicalises: every byte but the
// unreserved ones, and '/' too unless `keep_slash`.
std::string uri_encode(const std::string& text, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

using Query = std::vector<std::pair<std::string, std::string>>;

// Sorted by name, encoded, "name=" for a valueless one: what libcurl 7.88's
// signer needs to be handed, since it does not canonicalise the query itself.
std::string query_string(Query query) {
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [name, value] : query) {
    // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) on "lit" + string here.
    if (!out.empty()) out.push_back('&');
    out.append(uri_encode(name, false)).append("=").append(uri_encode(value, false));
  }
  return out;
}

std::string xml_unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    static const std::pair<std::string_view, char> entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool matched = false;
    for (const auto& [entity, c] : entities) {
      if (text.substr(i, entity.size()) == entity) {
        out += c;
        i += entity.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out += '&';
  }
  return out;
}

// The text of each <tag>...</tag> in `xml`, in order. S3's replies are flat
// enough that the elements zk-tool reads never nest in themselves.
std::vector<std::string_view> elements(std::string_view xml, const std::string& tag) {
  std::vector<std::string_view> found;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  for (size_t at = xml.find(open); at != std::string_view::npos; at = xml.find(open, at)) {
    const size_t begin = at + open.size();
    const size_t end = xml.find(close, begin);
    if (end == std::string_view::npos) break;
    found.push_back(xml.substr(begin, end - begin));
    at = end + close.size();
  }
  return found;
}

std::string element(std::string_view xml, const std::string& tag) {
  auto found = elements(xml, tag);
  return found.empty() ? std::string() : xml_unescape(found.front());
}

std::string sha256_hex(const std::string& data) {
  Sha256 hash;
  hash.update(data.data(), data.size());
  return hash.finish_hex();
}

// The SHA-256 of `length` bytes of `fd` from `offset`.
Result<std::string> sha256_of_range(int fd, const fs::path& path, uint64_t offset,
                                    uint64_t length) {
  Sha256 hash;
  std::vector<char> buffer(kIoBlock);
  for (uint64_t done = 0; done < length;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), length - done));
    ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return make_error(ErrorKind::Io, "cannot read " + path.string() + ": " +
                                           (n < 0 ? std::strerror(errno) : "file shrank"));
    }
    hash.update(buffer.data(), static_cast<size_t>(n));
    done += static_cast<uint64_t>(n);
  }
  return hash.finish_hex();
}

// --- One HTTP exchange ---

struct Request {
  const char* method = "GET";
  std::string bucket;
  std::string key;  // empty: the bucket itself
  Query query;
  std::string payload_sha256 = kUnsignedPayload;
  // The body: from memory, or `length` bytes of `file_fd` from `offset`.
  std::optional<std::string> body;
  int file_fd = -1;
  uint64_t offset = 0, length = 0;
  // Where a successful reply's body goes instead of memory (a download).
  int sink_fd = -1;
};

Request request(const char* method, const std::string& bucket, const std::string& key,
                Query query = {}) {
  Request r;
  r.method = method;
  r.bucket = bucket;
  r.key = key;
  r.query = std::move(query);
  return r;
}

struct Reply {
  long status = 0;
  std::string body;  // up to kMaxReplyBody; empty when sunk into a file
  std::string etag;
  uint64_t sunk = 0;  // bytes written to the sink
};

struct Transfer {
  const Request* request = nullptr;
  Reply* reply = nullptr;
  uint64_t sent = 0;
  size_t body_sent = 0;
  bool sink_failed = false;
  int sink_errno = 0;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->request->sink_fd >= 0 && t->reply->status / 100 == 2) {
    for (size_t done = 0; done < n;) {
      ssize_t w = ::write(t->request->sink_fd, data + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        t->sink_failed = true;
        t->sink_errno = errno;
        return 0;  // aborts the transfer
      }
      done += static_cast<size_t>(w);
    }
    t->reply->sunk += n;
    return n;
  }
  if (t->reply->body.size() + n > kMaxReplyBody) return 0;
  t->reply->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue): its status decides where the body goes.
    const size_t space = line.find(' ');
    if (space != std::string_view::npos) t->reply->status = std::atol(std::string(line.substr(space + 1, 3)).c_str());
  }
  constexpr std::string_view kEtag = "etag:";
  if (line.size() > kEtag.size()) {
    std::string name(line.substr(0, kEtag.size()));
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (name == kEtag) {
      std::string value(line.substr(kEtag.size()));
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
      t->reply->etag = value;
    }
  }
  return n;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const Request& r = *t->request;
  const size_t room = size * count;
  if (r.body) {
    const size_t n = std::min(room, r.body->size() - t->body_sent);
    std::memcpy(buffer, r.body->data() + t->body_sent, n);
    t->body_sent += n;
    return n;
  }
  const size_t want = static_cast<size_t>(std::min<uint64_t>(room, r.length - t->sent));
  if (want == 0) return 0;
  ssize_t n = ::pread(r.file_fd, buffer, want, static_cast<off_t>(r.offset + t->sent));
  if (n <= 0) return CURL_READFUNC_ABORT;
  t->sent += static_cast<uint64_t>(n);
  return static_cast<size_t>(n);
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

bool transient_transport(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

bool transient_status(long status, const std::string& body) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429 ||
         (status == 400 && element(body, "Code") == "RequestTimeout");
}

}  // namespace

struct S3Client::Impl {
  S3Endpoint endpoint;
  S3Credentials credentials;
  RetryPolicy retry;
  std::mt19937_64 jitter{std::random_device{}()};

  std::string host() const { return endpoint.url.substr(endpoint.url.find("://") + 3); }
  std::string scheme() const { return endpoint.url.substr(0, endpoint.url.find("://")); }

  std::string url_of(const Request& r) const {
    const std::string path = r.key.empty() ? "" : uri_encode(r.key, true);
    std::string url = endpoint.path_style
                          ? endpoint.url + "/" + uri_encode(r.bucket, false) + (path.empty() ? "/" : "/" + path)
                          : scheme() + "://" + r.bucket + "." + host() + "/" + path;
    const std::string query = query_string(r.query);
    if (!query.empty()) url += "?" + query;
    return url;
  }

  // "PUT s3://bucket/key": how messages name a request.
  static std::string name_of(const Request& r) {
    return std::string(r.method) + " s3://" + r.bucket + "/" + r.key;
  }

  // One attempt; CURLcode and the reply.
  std::pair<CURLcode, std::string> attempt(const Request& r, Transfer& transfer) {
    std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
    if (!curl) return {CURLE_FAILED_INIT, "curl_easy_init failed"};
    CURL* c = curl.get();
    const std::string url = url_of(r);
    const std::string signing = "aws:amz:" + endpoint.region + ":s3";
    const std::string user = credentials.access_key_id + ":" + credentials.secret_access_key;
    std::unique_ptr<curl_slist, CurlFree> headers;
    auto add = [&](const std::string& h) { headers.reset(curl_slist_append(headers.release(), h.c_str())); };
    add("x-amz-content-sha256: " + r.payload_sha256);
    if (credentials.session_token) add("x-amz-security-token: " + *credentials.session_token);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, signing.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, user.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "zk-tool");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(retry.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(retry.stall_timeout.count()));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
    const std::string method = r.method;
    if (method == "PUT" || (method == "POST" && (r.body || r.file_fd >= 0))) {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(c, CURLOPT_READDATA, &transfer);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                       static_cast<curl_off_t>(r.body ? r.body->size() : r.length));
      if (method == "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
    } else if (method == "POST") {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    } else if (method == "DELETE") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    const CURLcode rc = curl_easy_perform(c);
    return {rc, detail[0] ? std::string(detail) : std::string(curl_easy_strerror(rc))};
  }

  // Sends `r` until it succeeds, fails for good, or the deadline passes.
  Result<Reply> send(const Request& r) {
    init_curl_once();
    const auto deadline = Clock::now() + retry.deadline;
    std::string last;
    for (int tries = 0;; ++tries) {
      Reply reply;
      Transfer transfer{&r, &reply};
      if (r.sink_fd >= 0) {
        // A retried download starts its file again.
        if (::ftruncate(r.sink_fd, 0) != 0 || ::lseek(r.sink_fd, 0, SEEK_SET) != 0) {
          return make_error(ErrorKind::Io, name_of(r) + ": cannot rewind the download: " +
                                               std::strerror(errno));
        }
      }
      auto [rc, detail] = attempt(r, transfer);
      if (transfer.sink_failed) {
        return make_error(ErrorKind::Io, name_of(r) + ": cannot write the download: " +
                                             std::strerror(transfer.sink_errno));
      }
      bool transient = false;
      if (rc != CURLE_OK) {
        last = detail;
        transient = transient_transport(rc);
        if (!transient) return make_error(ErrorKind::StoreUnavailable, name_of(r) + ": " + detail);
      } else if (reply.status / 100 == 2) {
        return reply;
      } else {
        last = describe(reply);
        transient = transient_status(reply.status, reply.body);
        if (!transient) return refused(r, reply);
      }
      // Full jitter: anywhere between nothing and the doubled backoff.
      const auto cap = std::min(retry.max_backoff, retry.first_backoff * (int64_t{1} << std::min(tries, 16)));
      std::uniform_int_distribution<int64_t> pick(0, cap.count());
      const auto pause = std::chrono::milliseconds(pick(jitter));
      if (Clock::now() + pause >= deadline) {
        return make_error(ErrorKind::StoreUnavailable,
                          name_of(r) + ": no good answer in " +
                              std::to_string(retry.deadline.count() / 1000) + " s (" +
                              std::to_string(tries + 1) + " attempts; last: " + last + ")");
      }
      std::this_thread::sleep_for(pause);
    }
  }

  static std::string describe(const Reply& reply) {
    const std::string code = element(reply.body, "Code");
    return "HTTP " + std::to_string(reply.status) + (code.empty() ? "" : " " + code);
  }

  // A failure retrying will not mend. The reply's Message is shown, never the request.
  static Error refused(const Request& r, const Reply& reply) {
    const std::string message = element(reply.body, "Message");
    const std::string what =
        name_of(r) + ": " + describe(reply) + (message.empty() ? "" : ": " + message);
    if (reply.status == 401 || reply.status == 403) {
      return make_error(ErrorKind::CredentialsRefused, what);
    }
    if (reply.status == 404) return make_error(ErrorKind::Io, what);
    return make_error(ErrorKind::StoreUnavailable, what);
  }
};

S3Client::S3Client(S3Endpoint endpoint, S3Credentials credentials, RetryPolicy retry)
    : impl_(std::make_unique<Impl>(Impl{std::move(endpoint), std::move(credentials), retry})) {}
S3Client::S3Client(S3Client&&) noexcept = default;
S3Client& S3Client::operator=(S3Client&&) noexcept = default;
S3Client::~S3Client() = default;

Status S3Client::put_file(const std::string& bucket, const std::string& key, const fs::path& file,
                          uint64_t part_size) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return make_error(ErrorKind::Io, "cannot open " + file.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return make_error(ErrorKind::Io, file.string() + ": " + std::strerror(errno));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  auto send_range = [&](Request r, uint64_t offset, uint64_t length) -> Result<Reply> {
    auto digest = sha256_of_range(fd.get(), file, offset, length);
    if (!digest) return digest.error();
    r.payload_sha256 = *digest;
    r.file_fd = fd.get();
    r.offset = offset;
    r.length = length;
    return impl_->send(r);
  };
  if (size <= part_size) {
    auto put = send_range(request("PUT", bucket, key), 0, size);
    return put ? Status(Ok{}) : Status(put.error());
  }

  auto started = impl_->send(request("POST", bucket, key, {{"uploads", ""}}));
  if (!started) return started.error();
  MultipartUpload upload{key, element(started->body, "UploadId"), {}};
  if (upload.upload_id.empty()) {
    return make_error(ErrorKind::StoreUnavailable,
                      "POST s3://" + bucket + "/" + key + "?uploads: no UploadId in the reply");
  }
  auto abandon = [&](const Error& why) -> Error {
    Status aborted = abort_upload(bucket, upload);
    return make_error(why.kind, why.message + (aborted ? "; the upload was aborted"
                                                      : "; aborting the upload failed too (" +
                                                            aborted.error().message +
                                                            "): the next run aborts it"));
  };
  std::string parts;
  int number = 1;
  for (uint64_t offset = 0; offset < size; offset += part_size, ++number) {
    const uint64_t length = std::min(part_size, size - offset);
    auto sent = send_range(request("PUT", bucket, key,
                                   {{"partNumber", std::to_string(number)},
                                    {"uploadId", upload.upload_id}}),
                           offset, length);
    if (!sent) return abandon(sent.error());
    if (sent->etag.empty()) {
      return abandon(make_error(ErrorKind::StoreUnavailable,
                                "PUT s3://" + bucket + "/" + key + " part " +
                                    std::to_string(number) + ": no ETag in the reply"));
    }
    parts += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + sent->etag +
             "</ETag></Part>";
  }
  Request complete = request("POST", bucket, key, {{"uploadId", upload.upload_id}});
  complete.body = "<CompleteMultipartUpload>" + parts + "</CompleteMultipartUpload>";
  complete.payload_sha256 = sha256_hex(*complete.body);
  auto completed = impl_->send(complete);
  if (!completed) return abandon(completed.error());
  // S3 may answer 200 and still fail the completion, in the body.
  if (completed->body.find("<Error>") != std::string::npos) {
    return abandon(make_error(ErrorKind::StoreUnavailable,
                              "POST s3://" + bucket + "/" + key + "?uploadId: " +
                                  element(completed->body, "Code") + ": " +
                                  element(completed->body, "Message")));
  }
  return Ok{};
}

Status S3Client::get_to_file(const std::string& bucket, const std::string& key,
                             const fs::path& to) {
  UniqueFd fd(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return make_error(ErrorKind::Io, "cannot create " + to.string() + ": " + std::strerror(errno));
  }
  Request r = request("GET", bucket, key);
  r.sink_fd = fd.get();
  auto reply = impl_->send(r);
  auto fail = [&](const Error& e) -> Status {
    ::unlink(to.c_str());
    return e;
  };
  if (!reply) return fail(reply.error());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || static_cast<uint64_t>(st.st_size) != reply->sunk) {
    return fail(make_error(ErrorKind::Io, to.string() + ": the download did not land whole"));
  }
  if (::fsync(fd.get()) != 0) {
    return fail(make_error(ErrorKind::Io, to.string() + ": fsync: " + std::strerror(errno)));
  }
  return Ok{};
}

Result<std::vector<S3Object>> S3Client::list(const std::string& bucket, const std::string& prefix) {
  std::vector<S3Object> objects;
  std::string token;
  for (;;) {
    Query q{{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) q.emplace_back("continuation-token", token);
    auto reply = impl_->send(request("GET", bucket, "", q));
    if (!reply) return reply.error();
    for (std::string_view item : elements(reply->body, "Contents")) {
      S3Object o;
      o.key = element(item, "Key");
      o.size = std::strtoull(element(item, "Size").c_str(), nullptr, 10);
      o.last_modified = element(item, "LastModified");
      objects.push_back(std::move(o));
    }
    if (element(reply->body, "IsTruncated") != "true") break;
    token = element(reply->body, "NextContinuationToken");
    if (token.empty()) {
      return make_error(ErrorKind::StoreUnavailable,
                        "GET s3://" + bucket + "/?list-type=2: a truncated listing without a "
                        "continuation token");
    }
  }
  std::sort(objects.begin(), objects.end(),
            [](const S3Object& a, const S3Object& b) { return a.key < b.key; });
  return objects;
}

Status S3Client::remove(const std::string& bucket, const std::string& key) {
  auto reply = impl_->send(request("DELETE", bucket, key));
  if (!reply && reply.error().kind == ErrorKind::Io) return Ok{};  // 404: already gone
  return reply ? Status(Ok{}) : Status(reply.error());
}

Result<std::vector<MultipartUpload>> S3Client::list_uploads(const std::string& bucket,
                                                            const std::string& prefix) {
  std::vector<MultipartUpload> uploads;
  Query q{{"prefix", prefix}, {"uploads", ""}};
  for (;;) {
    auto reply = impl_->send(request("GET", bucket, "", q));
    if (!reply) return reply.error();
    for (std::string_view item : elements(reply->body, "Upload")) {
      uploads.push_back({element(item, "Key"), element(item, "UploadId"), element(item, "Initiated")});
    }
    if (element(reply->body, "IsTruncated") != "true") break;
    q = {{"prefix", prefix},
         {"uploads", ""},
         {"key-marker", element(reply->body, "NextKeyMarker")},
         {"upload-id-marker", element(reply->body, "NextUploadIdMarker")}};
  }
  return uploads;
}

Status S3Client::abort_upload(const std::string& bucket, const MultipartUpload& upload) {
  auto reply = impl_->send(request("DELETE", bucket, upload.key, {{"uploadId", upload.upload_id}}));
  if (!reply && reply.error().kind == ErrorKind::Io) return Ok{};  // NoSuchUpload: gone already
  return reply ? Status(Ok{}) : Status(reply.error());
}

}  // namespace zktool::storage
