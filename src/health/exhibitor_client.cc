#include "health/exhibitor_client.h"

#include <curl/curl.h>

#include <initializer_list>
#include <memory>
#include <mutex>
#include <string_view>
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

// The parts one after another: appended, because GCC 12 warns falsely
// (-Wrestrict) at -O3 on "literal" + std::string.
std::string joined(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (std::string_view part : parts) text.append(part);
  return text;
}

// Usage unless `endpoint.url` is an http(s) URL; a token only over https,
// where it cannot be read on the way.
Status check_endpoint(const ExhibitorEndpoint& endpoint) {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorKind::Usage,
                      joined({"Exhibitor URL ", excerpt(without_credentials(endpoint.url)), ": ",
                              why}));
  };
  CurlPtr<CURLU> parsed(curl_url());
  if (!parsed) return make_error(ErrorKind::Internal, "curl_url: out of memory");
  if (curl_url_set(parsed.get(), CURLUPART_URL, endpoint.url.c_str(), 0) != CURLUE_OK) {
    return bad("not a URL");
  }
  char* scheme = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    return bad("no scheme");
  }
  std::string scheme_text = scheme;  // libcurl gives it in lower case
  curl_free(scheme);
  if (scheme_text != "http" && scheme_text != "https") return bad("not http or https");
  if (scheme_text == "http" && !endpoint.token.empty()) {
    return bad("a token is sent only over https, never over plain http");
  }
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

// OpenSSL names the alert a server sent in the text libcurl passes on ("sslv3
// alert certificate expired", "tlsv13 alert certificate required", "tlsv1
// alert unknown ca"); libcurl reports nothing more structured. These alerts
// all refuse the client's certificate, or its absence.
bool refuses_client_certificate(const std::string& why) {
  for (const char* alert : {"alert bad certificate", "alert certificate", "alert unknown ca",
                            "alert unsupported certificate", "alert access denied"}) {
    if (why.find(alert) != std::string::npos) return true;
  }
  return false;
}

// The server refused our client certificate, or its absence; `why` says how.
Error client_certificate_refused(const ExhibitorEndpoint& endpoint, std::string_view why) {
  return make_error(
      ErrorKind::CredentialsRefused,
      endpoint.cert_file.empty()
          ? joined({"the server requires a client certificate and none was given (", why, ")"})
          : joined({"the server refused the client certificate ", endpoint.cert_file, " (", why,
                    ")"}));
}

// A failed transfer: its kind, and the part of its message after "GET <url>: ".
Error transfer_failure(CURL* curl, CURLcode rc, const char* detail, const Body& body,
                       const ExhibitorEndpoint& endpoint, const HttpLimits& limits) {
  std::string why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
  auto unhealthy = [](std::string what) {
    return make_error(ErrorKind::Unhealthy, std::move(what));
  };
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST: return unhealthy("cannot resolve the host (" + why + ")");
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      std::string reason =
          os_errno != 0 ? std::generic_category().message(static_cast<int>(os_errno)) : why;
      return unhealthy("cannot connect: " + reason);
    }
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_us = 0;
      curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connected_us);
      if (connected_us == 0) {
        return unhealthy("connect timed out after " +
                         std::to_string(limits.connect_timeout.count()) + " ms");
      }
      return unhealthy("connected, but no complete answer within " +
                       std::to_string(limits.total_timeout.count()) + " ms");
    }
    case CURLE_GOT_NOTHING: return unhealthy("the server closed the connection without answering");
    case CURLE_UNSUPPORTED_PROTOCOL:  // an HTTP/0.9-style reply: no status line
    case CURLE_WEIRD_SERVER_REPLY: return unhealthy("the reply is not HTTP (" + why + ")");
    case CURLE_FILESIZE_EXCEEDED:
      return unhealthy("the body exceeds " + std::to_string(limits.max_body) + " bytes");
    case CURLE_WRITE_ERROR:
      if (body.overflowed) {
        return unhealthy("the body exceeds " + std::to_string(limits.max_body) + " bytes");
      }
      return unhealthy(why);
    case CURLE_PARTIAL_FILE: return unhealthy("the body was cut short (" + why + ")");
    case CURLE_PEER_FAILED_VERIFICATION:
      // libcurl 7.88 reports a TLS 1.2 server's "certificate expired" alert,
      // which is about our certificate, as a failed verification as well, and
      // then, its own verification of the server having passed, says only this.
      if (why == "SSL certificate verification failed") {
        return client_certificate_refused(endpoint, "TLS alert: certificate expired");
      }
      return make_error(ErrorKind::TlsUntrusted,
                        joined({"the server's certificate is not trusted (", why,
                                "; checked against ",
                                endpoint.ca_file.empty() ? "the system's CAs" : endpoint.ca_file,
                                ")"}));
    case CURLE_SSL_CACERT_BADFILE:
      return make_error(ErrorKind::Usage, joined({"the CA bundle ", endpoint.ca_file,
                                                  " cannot be used (", why, ")"}));
    case CURLE_SSL_CERTPROBLEM:
      return make_error(ErrorKind::Usage,
                        joined({"the client certificate ", endpoint.cert_file, " with key ",
                                endpoint.key_file, " cannot be used (", why, ")"}));
    // A TLS 1.2 server refuses a client certificate in the handshake; a TLS 1.3
    // one after it, so that its alert comes with the first read or write.
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      if (refuses_client_certificate(why)) return client_certificate_refused(endpoint, why);
      if (rc == CURLE_SSL_CONNECT_ERROR) {
        return unhealthy(joined({"the TLS handshake failed (", why, ")"}));
      }
      if (rc == CURLE_SEND_ERROR) {
        return unhealthy(joined({"the connection broke while sending (", why, ")"}));
      }
      return unhealthy(joined({"the connection broke while receiving (", why, ")"}));
    default: return unhealthy(why);
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

Result<std::vector<ExhibitorServerStatus>> get_exhibitor_status(
    const ExhibitorEndpoint& endpoint, const HttpLimits& limits) {
  if (Status valid = check_endpoint(endpoint); !valid) return valid.error();
  init_curl_once();
  CurlPtr<CURL> curl(curl_easy_init());
  if (!curl) return make_error(ErrorKind::Internal, "curl_easy_init failed");
  CurlPtr<curl_slist> headers(curl_slist_append(nullptr, "Accept: application/json"));
  if (!headers) return make_error(ErrorKind::Internal, "curl_slist_append failed");
  if (!endpoint.token.empty()) {
    std::string authorization("Authorization: token=");
    authorization += endpoint.token;
    curl_slist* appended = curl_slist_append(headers.get(), authorization.c_str());
    if (appended == nullptr) return make_error(ErrorKind::Internal, "curl_slist_append failed");
  }

  Body body;
  body.max = limits.max_body;
  char detail[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  const std::string& url = endpoint.url;
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
  // libcurl's defaults already, set so that no build or future default can
  // weaken them: the certificate must chain to a trusted CA and name the host.
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!endpoint.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, endpoint.ca_file.c_str());
    // The bundle alone: without this, Debian's libcurl also trusts /etc/ssl/certs.
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  }
  if (!endpoint.cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, endpoint.cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY, endpoint.key_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }

  auto failed = [&](const Error& error) {
    return make_error(error.kind, joined({"GET ", without_credentials(url), ": ", error.message}));
  };
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return failed(transfer_failure(c, rc, detail, body, endpoint, limits));

  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  const std::string http = joined({"HTTP ", std::to_string(status)});
  if (status >= 300 && status < 400) {
    char* location = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
    return failed(make_error(ErrorKind::Unhealthy,
                             http + " redirects to " +
                                 (location != nullptr ? excerpt(without_credentials(location))
                                                      : std::string("nowhere")) +
                                 "; redirects are not followed, give that URL instead"));
  }
  // The body is not shown: a server may echo the request, token included.
  if (status == 401 || status == 403) {
    return failed(make_error(ErrorKind::CredentialsRefused,
                             http + (endpoint.token.empty()
                                         ? ": the server asks for a token and none was given"
                                         : ": the server refused the token")));
  }
  if (status != 200) {
    return failed(make_error(ErrorKind::Unhealthy, http + ", body " + excerpt(body.text)));
  }
  auto servers = parse_exhibitor_status(body.text);
  if (!servers) return failed(servers.error());
  return servers;
}

}  // namespace zktool::health
