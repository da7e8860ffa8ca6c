#include "health/exhibitor_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <system_error>

#include <nlohmann/json.hpp>

#include "health/excerpt.h"

namespace zktool::health {

namespace {

using nlohmann::json;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
template <typename T>
using CurlPtr = std::unique_ptr<T, CurlDeleter>;

// curl_global_init is not safe to race with other threads' first handles.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Status check_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::Usage, "Exhibitor URL " + excerpt(without_credentials(url)) +
                                            ": " + why);
  };
  CurlPtr<CURLU> parsed(curl_url());
  if (!parsed) return make_error(ErrorKind::Internal, "curl_url: out of memory");
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return bad("not a URL");
  }
  char* scheme = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    return bad("no scheme");
  }
  std::string scheme_text = scheme;
  curl_free(scheme);
  if (scheme_text != "http" && scheme_text != "https") return bad("not http or https");
  return Ok{};
}

struct Body {
  std::string text;
  size_t max = 0;
  bool overflowed = false;
};

size_t append_body(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  size_t bytes = size * count;
  if (body->text.size() + bytes > body->max) {
    body->overflowed = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  body->text.append(data, bytes);
  return bytes;
}

// The part of a failed transfer's message after "GET <url>: ".
std::string transfer_failure(CURL* curl, CURLcode rc, const char* detail, const Body& body,
                             const HttpLimits& limits) {
  std::string why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST: return "cannot resolve the host (" + why + ")";
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      std::string reason =
          os_errno != 0 ? std::generic_category().message(static_cast<int>(os_errno)) : why;
      return "cannot connect: " + reason;
    }
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_us = 0;
      curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connected_us);
      if (connected_us == 0) {
        return "connect timed out after " + std::to_string(limits.connect_timeout.count()) + " ms";
      }
      return "connected, but no complete answer within " +
             std::to_string(limits.total_timeout.count()) + " ms";
    }
    case CURLE_GOT_NOTHING: return "the server closed the connection without answering";
    case CURLE_UNSUPPORTED_PROTOCOL:  // an HTTP/0.9-style reply: no status line
    case CURLE_WEIRD_SERVER_REPLY: return "the reply is not HTTP (" + why + ")";
    case CURLE_FILESIZE_EXCEEDED:
      return "the body exceeds " + std::to_string(limits.max_body) + " bytes";
    case CURLE_WRITE_ERROR:
      if (body.overflowed) return "the body exceeds " + std::to_string(limits.max_body) + " bytes";
      return why;
    case CURLE_RECV_ERROR: return "the connection broke while receiving (" + why + ")";
    case CURLE_PARTIAL_FILE: return "the body was cut short (" + why + ")";
    default: return why;
  }
}

// Reads one required, typed field of element `index`.
template <typename T>
Result<T> field(const json& element, size_t index, const char* name, json::value_t type) {
  std::string where = "element " + std::to_string(index) + " ";
  auto it = element.find(name);
  if (it == element.end()) {
    return make_error(ErrorKind::Unhealthy, where + "has no \"" + name + "\"");
  }
  bool type_ok = it->type() == type || (type == json::value_t::number_integer &&
                                        it->type() == json::value_t::number_unsigned);
  if (!type_ok) {
    return make_error(ErrorKind::Unhealthy, where + "has \"" + name + "\" of type " +
                                                it->type_name() + ": " + excerpt(it->dump()));
  }
  return it->get<T>();
}

}  // namespace

std::string without_credentials(const std::string& url) {
  size_t scheme_end = url.find("://");
  size_t authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority);
  size_t at = url.rfind('@', authority_end);
  if (at == std::string::npos || at < authority) return url;
  return url.substr(0, authority) + "***@" + url.substr(at + 1);
}

Result<std::vector<ExhibitorServerStatus>> parse_exhibitor_status(std::string_view body) {
  json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return make_error(ErrorKind::Unhealthy, "the body is not JSON: " + excerpt(body));
  }
  if (!document.is_array()) {
    return make_error(ErrorKind::Unhealthy, std::string("the body is a JSON ") +
                                                document.type_name() +
                                                ", not an array: " + excerpt(body));
  }
  std::vector<ExhibitorServerStatus> servers;
  for (size_t i = 0; i < document.size(); ++i) {
    const json& element = document[i];
    if (!element.is_object()) {
      return make_error(ErrorKind::Unhealthy, "element " + std::to_string(i) + " is a " +
                                                  element.type_name() + ", not an object");
    }
    auto hostname = field<std::string>(element, i, "hostname", json::value_t::string);
    if (!hostname) return hostname.error();
    auto code = field<int64_t>(element, i, "code", json::value_t::number_integer);
    if (!code) return code.error();
    auto description = field<std::string>(element, i, "description", json::value_t::string);
    if (!description) return description.error();
    auto is_leader = field<bool>(element, i, "isLeader", json::value_t::boolean);
    if (!is_leader) return is_leader.error();
    std::string where = "element " + std::to_string(i) + " (" + excerpt(*hostname) + ") ";
    if (hostname->empty()) return make_error(ErrorKind::Unhealthy, where + "has no hostname");
    if (*code < 0 || *code > 3) {
      return make_error(ErrorKind::Unhealthy,
                        where + "has code " + std::to_string(*code) + ", not one of 0-3");
    }
    servers.push_back({std::move(*hostname), static_cast<ExhibitorCode>(*code),
                       std::move(*description), *is_leader});
  }
  return servers;
}

Result<std::vector<ExhibitorServerStatus>> get_exhibitor_status(const std::string& url,
                                                                const HttpLimits& limits) {
  if (Status valid = check_url(url); !valid) return valid.error();
  init_curl_once();
  CurlPtr<CURL> curl(curl_easy_init());
  if (!curl) return make_error(ErrorKind::Internal, "curl_easy_init failed");
  CurlPtr<curl_slist> headers(curl_slist_append(nullptr, "Accept: application/json"));

  Body body;
  body.max = limits.max_body;
  char detail[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: callers may run threads
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(limits.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_body));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "zk-tool");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);

  auto failed = [&](const std::string& what) {
    return make_error(ErrorKind::Unhealthy, "GET " + without_credentials(url) + ": " + what);
  };
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return failed(transfer_failure(c, rc, detail, body, limits));

  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300 && status < 400) {
    char* location = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
    return failed("HTTP " + std::to_string(status) + " redirects to " +
                  (location != nullptr ? excerpt(without_credentials(location))
                                       : std::string("nowhere")) +
                  "; redirects are not followed, give that URL instead");
  }
  if (status != 200) {
    return failed("HTTP " + std::to_string(status) + ", body " + excerpt(body.text));
  }
  auto servers = parse_exhibitor_status(body.text);
  if (!servers) return failed(servers.error().message);
  return servers;
}

}  // namespace zktool::health
