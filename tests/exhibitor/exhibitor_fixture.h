// A stand-in for Exhibitor's status API (src/health/exhibitor_client.h), which is not
// packaged here: a single-purpose HTTP/1.1 server on 127.0.0.1 that answers
// GET /exhibitor/v1/cluster/status from the live state of real ZooKeeper
// nodes, probed with ruok and srvr per request the way Exhibitor's Checker
// does. Every node runs on one host in tests, so the hostname it reports is
// host:port. The fault modes make it misbehave for the client's error paths.
// With Access it serves HTTPS (OpenSSL), may require a client certificate
// that chains to a CA, and may require a token, as DC/OS serves Exhibitor.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/result.h"
#include "health/ensemble_health.h"

namespace zktool::testsupport {

class ExhibitorFixture {
 public:
  enum class Mode {
    kServe,              // probe the nodes and answer the JSON array
    kGarbage,            // answer bytes that are not HTTP, then close
    kNotJson,            // HTTP 200 with an HTML body
    kHttp500,            // HTTP 500 with a Java exception as the body
    kSilent,             // read the request and never answer
    kCloseWithoutReply,  // read the request and close the connection
    kRedirect            // HTTP 302 to the same path on another host
  };

  static constexpr const char* kStatusPath = "/exhibitor/v1/cluster/status";

  struct Tls {
    std::filesystem::path cert_file, key_file;  // the server's (PEM)
    // When set, a client certificate that verifies against this CA (PEM) is
    // required: the handshake fails with OpenSSL's alert otherwise.
    std::filesystem::path client_ca_file;
    // TLS 1.2 at most: its server refuses a client certificate inside the
    // handshake, where TLS 1.3 does so after it.
    bool tls12 = false;
  };
  struct Access {
    std::optional<Tls> tls;            // HTTPS instead of HTTP
    std::optional<std::string> token;  // required as "Authorization: token=<token>", else 401
  };

  // Listens on 127.0.0.1:port (0 picks a free port) and serves on a thread of
  // its own until destroyed.
  static Result<std::unique_ptr<ExhibitorFixture>> start(
      std::vector<health::Endpoint> nodes, int port = 0,
      std::chrono::milliseconds probe_timeout = std::chrono::seconds(2), Access access = {});

  ExhibitorFixture(const ExhibitorFixture&) = delete;
  ExhibitorFixture& operator=(const ExhibitorFixture&) = delete;
  ~ExhibitorFixture();  // stops serving and closes every connection it holds

  int port() const { return port_; }
  // http(s)://127.0.0.1:<port>/exhibitor/v1/cluster/status
  std::string status_url() const;
  void set_mode(Mode mode) { mode_ = mode; }
  // Requests for the status path answered so far, in any mode (over TLS: only
  // those whose handshake succeeded; with a token: refused ones too).
  size_t status_requests() const { return status_requests_; }

  // The JSON array Exhibitor would answer right now.
  std::string probe_nodes() const;

 private:
  class Connection;
  struct TlsContext;

  ExhibitorFixture(std::vector<health::Endpoint> nodes, int listen_fd, int wake_fd, int port,
                   std::chrono::milliseconds probe_timeout, std::unique_ptr<TlsContext> tls,
                   std::optional<std::string> token);
  void serve();
  void handle(int fd);

  std::vector<health::Endpoint> nodes_;
  int listen_fd_;
  int wake_fd_;  // an eventfd: written to stop the server thread
  int port_;
  std::chrono::milliseconds probe_timeout_;
  std::atomic<Mode> mode_{Mode::kServe};
  std::atomic<size_t> status_requests_{0};
  std::unique_ptr<TlsContext> tls_;  // null: plain HTTP
  std::optional<std::string> token_;
  std::vector<std::unique_ptr<Connection>> held_;  // silent connections, closed on destruction
  std::jthread thread_;
};

}  // namespace zktool::testsupport
