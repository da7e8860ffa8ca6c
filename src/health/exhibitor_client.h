// Exhibitor's cluster status API (GET /exhibitor/v1/cluster/status, a JSON
// array with one object per member: hostname, code, description, isLeader)
// over libcurl: one bounded request, a strictly checked answer. Over https the
// server's certificate and host name are always verified; there is no way to
// turn that off.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace zktool::health {

inline constexpr const char* kDefaultExhibitorStatusUrl =
    "http://localhost:8181/exhibitor/v1/cluster/status";

// Exhibitor's InstanceStateTypes codes.
enum class ExhibitorCode { kLatent = 0, kDown = 1, kNotServing = 2, kServing = 3 };

// One element of the status array, as Exhibitor reports it.
struct ExhibitorServerStatus {
  std::string hostname;
  ExhibitorCode code = ExhibitorCode::kDown;
  std::string description;
  bool is_leader = false;  // leader, or a standalone server
};

// Parses the body: a JSON array of {hostname, code, description, isLeader}
// objects, each field present with its type, hostname not empty and code 0-3
// (other keys are ignored). Unhealthy, naming the element and field, otherwise.
Result<std::vector<ExhibitorServerStatus>> parse_exhibitor_status(std::string_view body);

// `url` with any user name and password replaced by "***", for every message and output that
// shows it (http://admin:secret@host/... becomes http://***@host/...). Anything else unchanged.
std::string without_credentials(const std::string& url);

// Where the status API is and what zk-tool trusts and presents there (DC/OS:
// Admin Router's CA bundle, Enterprise's client certificate for Exhibitor's own
// TLS, a service account's token). Empty fields are not used.
struct ExhibitorEndpoint {
  ExhibitorEndpoint() = default;
  explicit ExhibitorEndpoint(std::string status_url) : url(std::move(status_url)) {}

  std::string url = kDefaultExhibitorStatusUrl;
  std::string ca_file;    // the CA bundle (PEM) to trust instead of the system's store
  std::string cert_file;  // a client certificate (PEM), given with key_file
  std::string key_file;
  std::string token;  // sent as "Authorization: token=<token>"; never shown anywhere
};

struct HttpLimits {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};  // connect, send and the whole body
  size_t max_body = 1 << 20;
};

// GETs the endpoint's URL (http or https) and parses it. Redirects are not
// followed: a redirect is reported with its target. Every failure is one line
// naming the URL (without credentials) and saying which it was:
// - Usage: not an http(s) URL, a token over plain http, a CA bundle or client
//   certificate or key that libcurl cannot use (naming the file);
// - TlsUntrusted: the server's certificate does not verify (unknown CA,
//   expired, another host name: OpenSSL's verify result says which);
// - CredentialsRefused: the server's TLS alert refuses our client certificate
//   (or its absence), or HTTP 401 or 403;
// - Unhealthy, everything else: cannot resolve, refused, connect timeout, no
//   answer in time, closed without answering, a TLS handshake that failed
//   otherwise, a reply that is not HTTP, an HTTP status other than 200, a body
//   too large, not JSON, or JSON of the wrong shape.
Result<std::vector<ExhibitorServerStatus>> get_exhibitor_status(
    const ExhibitorEndpoint& endpoint, const HttpLimits& limits = {});

}  // namespace zktool::health
