#include "exhibitor/exhibitor_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "health/four_letter.h"

namespace zktool::testsupport {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRequestReadTimeout = std::chrono::seconds(2);
constexpr size_t kMaxRequest = 16 * 1024;

Error io_error(const std::string& what) {
  return make_error(ErrorKind::Io, "exhibitor fixture: " + what + ": " + std::strerror(errno));
}

bool starts_with_ignoring_case(const std::string& line, std::string_view prefix) {
  if (line.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != prefix[i]) return false;
  }
  return true;
}

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Exhibitor's Checker: down unless ruok says imok; then the first srvr line
// that says "not currently serving" or starts with "mode" decides, and the
// mode leader or standalone leads. Anything else stays down.
nlohmann::json check_node(const health::Endpoint& node, std::chrono::milliseconds timeout) {
  int code = 1;
  bool leader = false;
  auto ruok = health::four_letter_word(node.host, node.client_port, "ruok", timeout);
  if (ruok && *ruok == "imok") {
    auto srvr = health::four_letter_word(node.host, node.client_port, "srvr", timeout);
    std::istringstream lines(srvr ? *srvr : std::string());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("not currently serving") != std::string::npos) {
        code = 2;
        break;
      }
      if (starts_with_ignoring_case(line, "mode")) {
        code = 3;
        size_t colon = line.find(':');
        std::string mode = colon == std::string::npos ? "" : lower(trim(line.substr(colon + 1)));
        leader = mode == "leader" || mode == "standalone";
        break;
      }
    }
  }
  static constexpr const char* kDescriptions[] = {"latent", "down", "not serving", "serving"};
  return {{"hostname", health::host_port(node.host, node.client_port)},
          {"code", code},
          {"description", kDescriptions[code]},
          {"isLeader", leader}};
}

std::string http_response(const std::string& status, const std::string& content_type,
                          const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

// The value of the request head's `name` header (lower case, with its colon),
// trimmed; empty when absent.
std::string header_value(const std::string& request, std::string_view name) {
  std::istringstream lines(request);
  std::string line;
  while (std::getline(lines, line)) {
    if (starts_with_ignoring_case(line, name)) return trim(line.substr(name.size()));
  }
  return {};
}

Error tls_error(const std::string& what) {
  char text[256] = "";
  ERR_error_string_n(ERR_get_error(), text, sizeof text);
  return make_error(ErrorKind::Io, std::string("exhibitor fixture: ") + what + ": " + text);
}

}  // namespace

struct ExhibitorFixture::TlsContext {
  ~TlsContext() { SSL_CTX_free(ctx); }
  SSL_CTX* ctx = nullptr;
};

// One accepted connection, plain or TLS: the request is read and the answer
// sent through it, and it closes on destruction.
class ExhibitorFixture::Connection {
 public:
  Connection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    SSL_free(ssl_);
    ::close(fd_);
  }

  // The request head (up to the blank line), or empty when the client sends
  // none in time.
  std::string read_request() {
    std::string request;
    auto deadline = Clock::now() + kRequestReadTimeout;
    char buffer[2048];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRequest) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      // OpenSSL may hold decrypted bytes the socket no longer signals.
      bool buffered = ssl_ != nullptr && SSL_pending(ssl_) > 0;
      if (!buffered && (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)) {
        return {};
      }
      ssize_t n = ssl_ != nullptr ? SSL_read(ssl_, buffer, sizeof buffer)
                                  : ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return {};
      request.append(buffer, static_cast<size_t>(n));
    }
    return request;
  }

  void send_all(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ssl_ != nullptr
                      ? SSL_write(ssl_, bytes.data() + sent, static_cast<int>(bytes.size() - sent))
                      : ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR && ssl_ == nullptr) continue;
      if (n <= 0) return;  // the client went away: nothing to tell it
      sent += static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
  SSL* ssl_;  // null: plain HTTP
};

Result<std::unique_ptr<ExhibitorFixture>> ExhibitorFixture::start(
    std::vector<health::Endpoint> nodes, int port, std::chrono::milliseconds probe_timeout,
    Access access) {
  std::unique_ptr<TlsContext> tls;
  if (access.tls) {
    tls = std::make_unique<TlsContext>();
    tls->ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX* ctx = tls->ctx;
    if (ctx == nullptr ||
        SSL_CTX_use_certificate_chain_file(ctx, access.tls->cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, access.tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      return tls_error("server certificate " + access.tls->cert_file.string());
    }
    if (access.tls->tls12 && SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1) {
      return tls_error("TLS 1.2 at most");
    }
    if (!access.tls->client_ca_file.empty()) {
      const char* ca = access.tls->client_ca_file.c_str();
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca);
      if (names == nullptr || SSL_CTX_load_verify_locations(ctx, ca, nullptr) != 1) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return tls_error("client CA " + access.tls->client_ca_file.string());
      }
      SSL_CTX_set_client_CA_list(ctx, names);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) return io_error("socket");
  int one = 1;
  ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t length = sizeof address;
  if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listen_fd, 16) != 0 ||
      ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    Error error = io_error("listen on 127.0.0.1:" + std::to_string(port));
    ::close(listen_fd);
    return error;
  }
  int wake_fd = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd < 0) {
    Error error = io_error("eventfd");
    ::close(listen_fd);
    return error;
  }
  std::unique_ptr<ExhibitorFixture> fixture(
      new ExhibitorFixture(std::move(nodes), listen_fd, wake_fd, ntohs(address.sin_port),
                           probe_timeout, std::move(tls), std::move(access.token)));
  fixture->thread_ = std::jthread([raw = fixture.get()] { raw->serve(); });
  return fixture;
}

ExhibitorFixture::ExhibitorFixture(std::vector<health::Endpoint> nodes, int listen_fd, int wake_fd,
                                   int port, std::chrono::milliseconds probe_timeout,
                                   std::unique_ptr<TlsContext> tls,
                                   std::optional<std::string> token)
    : nodes_(std::move(nodes)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port),
      probe_timeout_(probe_timeout),
      tls_(std::move(tls)),
      token_(std::move(token)) {}

ExhibitorFixture::~ExhibitorFixture() {
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) std::abort();  // the thread would never end
  if (thread_.joinable()) thread_.join();
  held_.clear();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

std::string ExhibitorFixture::status_url() const {
  std::string url(tls_ ? "https" : "http");
  url += "://127.0.0.1:";
  url += std::to_string(port_);
  url += kStatusPath;
  return url;
}

std::string ExhibitorFixture::probe_nodes() const {
  nlohmann::json servers = nlohmann::json::array();
  for (const health::Endpoint& node : nodes_) servers.push_back(check_node(node, probe_timeout_));
  return servers.dump();
}

void ExhibitorFixture::serve() {
  // OpenSSL writes with write(), not send(MSG_NOSIGNAL): a client that hangs
  // up mid-handshake would raise SIGPIPE and end the test binary. Blocked on
  // this thread, it turns into EPIPE.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) handle(fd);
  }
}

void ExhibitorFixture::handle(int fd) {
  SSL* ssl = nullptr;
  if (tls_) {
    // Bounds the handshake and every TLS read and write of this connection.
    timeval timeout{std::chrono::duration_cast<std::chrono::seconds>(kRequestReadTimeout).count(),
                    0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    ssl = SSL_new(tls_->ctx);
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
      // OpenSSL has sent its alert. Closing with the client's request unread
      // would send a reset, which can overtake the alert: let the client close
      // first, then drain.
      ERR_clear_error();
      ::shutdown(fd, SHUT_WR);
      char buffer[2048];
      pollfd p{fd, POLLIN, 0};
      const int wait_ms = static_cast<int>(std::chrono::milliseconds(kRequestReadTimeout).count());
      while (::poll(&p, 1, wait_ms) > 0 && ::recv(fd, buffer, sizeof buffer, 0) > 0) {
      }
      SSL_free(ssl);
      ::close(fd);
      return;
    }
  }
  auto connection = std::make_unique<Connection>(fd, ssl);
  std::string request = connection->read_request();
  std::string request_line = request.substr(0, request.find("\r\n"));
  std::istringstream words(request_line);
  std::string method, target;
  words >> method >> target;
  bool status_request = method == "GET" && target == kStatusPath;
  if (status_request) ++status_requests_;

  Mode mode = mode_;
  if (!status_request) {
    connection->send_all(http_response(method == "GET" ? "404 Not Found" : "405 Method Not Allowed",
                                       "text/plain", "not found\n"));
  } else if (token_ && header_value(request, "authorization:") != std::string("token=") + *token_) {
    // As DC/OS Admin Router answers a request without a valid token.
    connection->send_all(http_response("401 Unauthorized", "text/plain", "Unauthorized\n"));
  } else if (mode == Mode::kSilent) {
    held_.push_back(std::move(connection));
  } else if (mode == Mode::kServe) {
    connection->send_all(http_response("200 OK", "application/json", probe_nodes()));
  } else if (mode == Mode::kGarbage) {
    connection->send_all("\x01\x02garbage, not HTTP\x7f\n");
  } else if (mode == Mode::kNotJson) {
    connection->send_all(http_response("200 OK", "text/html",
                                       "<html><body>Exhibitor is starting</body></html>\n"));
  } else if (mode == Mode::kHttp500) {
    connection->send_all(http_response("500 Internal Server Error", "text/plain",
                                       "java.lang.NullPointerException\n"));
  } else if (mode == Mode::kRedirect) {
    connection->send_all("HTTP/1.1 302 Found\r\nLocation: http://exhibitor.invalid:8181" +
                         std::string(kStatusPath) +
                         "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  }
}

}  // namespace zktool::testsupport
