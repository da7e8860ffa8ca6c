// Exhibitor's cluster status API (GET /exhibitor/v1/cluster/status, a JSON
// array with one object per member: hostname, code, description, isLeader)
// over libcurl: one bounded request, a strictly checked answer.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

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

struct HttpLimits {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};  // connect, send and the whole body
  size_t max_body = 1 << 20;
};

// GETs `url` (http or https) and parses it. Redirects are not followed: a
// redirect is reported with its target. Usage when `url` is not an http(s)
// URL; otherwise every failure is one Unhealthy line starting with the URL
// that says which it was: cannot resolve, refused, connect timeout, no answer
// in time, closed without answering, a reply that is not HTTP, an HTTP status
// other than 200, a body too large, not JSON, or JSON of the wrong shape.
Result<std::vector<ExhibitorServerStatus>> get_exhibitor_status(const std::string& url,
                                                                const HttpLimits& limits = {});

}  // namespace zktool::health
