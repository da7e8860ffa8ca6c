#include "s3/ceph_gateway.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "support/files.h"
#include "support/ports.h"
#include "support/process.h"

namespace zktool::testsupport {

namespace fs = std::filesystem;

namespace {

struct Program {
  const char* path;
  const char* package;
};
constexpr Program kPrograms[] = {
    {"/usr/bin/ceph-mon", "ceph-mon"},         {"/usr/bin/monmaptool", "ceph-mon"},
    {"/usr/bin/ceph-osd", "ceph-osd"},         {"/usr/bin/radosgw", "radosgw"},
    {"/usr/bin/ceph", "ceph-common"},          {"/usr/bin/ceph-authtool", "ceph-common"},
    {"/usr/bin/radosgw-admin", "ceph-common"},
};

constexpr auto kReadyTimeout = std::chrono::seconds(90);
// memstore keeps nothing worth a clean shutdown, and the OSD takes seconds over one.
constexpr auto kStopGrace = std::chrono::seconds(2);
// The SHA-256 of an empty body, which S3 wants in x-amz-content-sha256.
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// What explains a Ceph program's failure, from its stderr or log: its last few
// error-level lines (" -1 ") and failed assertions, else its last lines. A
// crash's dump of recent events is left out: it repeats them among settings.
std::string excerpt(std::string text) {
  if (auto dump = text.find("--- begin dump of recent events ---"); dump != std::string::npos) {
    text.resize(dump);
  }
  std::vector<std::string> lines, errors;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.find(" -1 ") != std::string::npos || line.find("FAILED") != std::string::npos) {
      errors.push_back(line);
    }
    lines.push_back(line);
  }
  const auto& shown = errors.empty() ? lines : errors;
  std::string out;
  for (size_t i = shown.size() > 8 ? shown.size() - 8 : 0; i < shown.size(); ++i) {
    out += "\n  " + shown[i];
  }
  return out;
}

std::string log_excerpt(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "\n(no " + path.string() + ")";
  return "\n" + path.string() + ":" +
         excerpt({std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
}

Result<std::string> new_uuid() {
  std::ifstream in("/proc/sys/kernel/random/uuid");
  std::string uuid;
  if (!std::getline(in, uuid)) {
    return make_error(ErrorKind::Io, "cannot read /proc/sys/kernel/random/uuid");
  }
  return uuid;
}

std::string random_string(size_t length, std::string_view alphabet) {
  std::random_device device;
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < length; ++i) out += alphabet[pick(device)];
  return out;
}

// $name is Ceph's own metavariable: mon.mon0, osd.0, client.rgw.0, client.admin.
std::string ceph_conf(const fs::path& dir, const std::string& fsid, int mon_port, int s3_port) {
  const std::string d = dir.string();
  return "[global]\n"
         "fsid = " + fsid + "\n"
         "mon initial members = mon0\n"
         "mon host = v2:127.0.0.1:" + std::to_string(mon_port) + "\n"
         "keyring = " + d + "/keyring\n"
         // One OSD holds every placement group alone.
         "osd pool default size = 1\n"
         "osd pool default min size = 1\n"
         "osd pool default pg num = 8\n"
         "osd pool default pgp num = 8\n"
         "osd crush chooseleaf type = 0\n"
         "mon allow pool size one = true\n"
         "osd objectstore = memstore\n"
         "memstore device bytes = 2G\n"
         // Nothing in /var/run/ceph or /var/log/ceph, where other runs would collide.
         "run dir = " + d + "\n"
         "admin socket = " + d + "/$name.asok\n"
         "log file = " + d + "/$name.log\n"
         "[mon.mon0]\n"
         "mon data = " + d + "/mon\n"
         "[osd.0]\n"
         "osd data = " + d + "/osd\n"
         // Its ports on loopback only, like the monitor's and the gateway's.
         "public addr = 127.0.0.1\n"
         "cluster addr = 127.0.0.1\n"
         "[client.admin]\n"
         // The ceph and radosgw-admin tools fail, rather than wait for minutes, when a daemon is down.
         "client mount timeout = 30\n"
         "rados mon op timeout = 30\n"
         "rados osd op timeout = 30\n"
         "[client.rgw.0]\n"
         "rgw frontends = beast endpoint=127.0.0.1:" + std::to_string(s3_port) + "\n";
}

// curl_global_init is not safe to race with other threads' first handles.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t append_body(char* data, size_t size, size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

struct HttpReply {
  long status = 0;    // 0: no answer (error says why)
  std::string body;
  std::string error;
};

// One request without a body; signed with SigV4 when `user` ("ACCESS:SECRET") is not empty.
HttpReply http_request(const std::string& method, const std::string& url,
                       const std::string& user = {}, const std::string& region = {}) {
  HttpReply reply;
  init_curl_once();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(
      curl_slist_append(nullptr, (std::string("x-amz-content-sha256: ") + kEmptySha256).c_str()),
      curl_slist_free_all);
  if (!curl || !headers) {
    reply.error = "libcurl: out of memory";
    return reply;
  }
  char detail[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: callers may run threads
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
  if (!user.empty()) {
    const std::string sigv4 = "aws:amz:" + region + ":s3";  // libcurl copies it
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, user.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    reply.error = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
    return reply;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

}  // namespace

// The daemons, as our children, and the directory they live in; stops the one
// and removes the other when destroyed, so a start() that fails part way
// leaves nothing behind.
class CephGateway::Cluster {
 public:
  explicit Cluster(fs::path dir) : dir_(std::move(dir)) {}
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  ~Cluster() {
    // SIGTERM to all first, so they shut down together; then wait for each.
    for (const auto& daemon : daemons_) ::kill(daemon.pid, SIGTERM);
    for (const auto& daemon : daemons_) {
      if (Status stopped = terminate_process(daemon.pid, kStopGrace); !stopped) {
        std::cerr << "CephGateway: " << daemon.name << ": " << stopped.error().message << "\n";
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  const fs::path& dir() const { return dir_; }
  std::string conf() const { return (dir_ / "ceph.conf").string(); }
  fs::path log(const std::string& name) const { return dir_ / (name + ".log"); }

  // An Error naming the step, with `detail` and an excerpt of `log_name`'s log.
  Error failure(const std::string& step, const std::string& detail,
                const std::string& log_name) const {
    std::string message = "Ceph gateway: " + step + ": " + detail;
    if (!log_name.empty()) message += log_excerpt(log(log_name));
    return make_error(ErrorKind::Io, message);
  }

  // Runs a tool to completion.
  Status run(const std::string& step, const std::vector<std::string>& argv,
             const std::string& log_name) {
    CapturedRun run = run_captured(argv);
    if (run.exit_code == 0) return Ok{};
    return failure(step, "exit " + std::to_string(run.exit_code) + excerpt(run.err),
                   log_name);
  }

  // Starts a daemon in the foreground (-f): our child, it dies with us.
  Status spawn(const std::string& step, const std::string& name,
               const std::vector<std::string>& argv) {
    auto pid = spawn_server({argv, dir_ / (name + ".out"), /*die_with_parent=*/true});
    if (!pid) return failure(step, pid.error().message, name);
    daemons_.push_back({name, *pid});
    return Ok{};
  }

  // Fails, naming it and its log, when a daemon has exited.
  Status check_running() {
    for (auto it = daemons_.begin(); it != daemons_.end(); ++it) {
      if (auto how = reap_if_exited(it->pid)) {
        std::string name = it->name;
        daemons_.erase(it);  // reaped: its pid may be reused, never signal it again
        return failure(name + " exited (" + *how + ")", log_excerpt(dir_ / (name + ".out")), name);
      }
    }
    return Ok{};
  }

 private:
  struct Daemon {
    std::string name;
    pid_t pid;
  };
  fs::path dir_;
  std::vector<Daemon> daemons_;
};

std::optional<std::string> CephGateway::missing_packages() {
  for (const auto& program : kPrograms) {
    if (!fs::exists(program.path)) {
      return std::string("no ") + program.path + " (package " + program.package +
             "): install ceph-mon ceph-osd radosgw ceph-common (tests/install-deps.sh)";
    }
  }
  return std::nullopt;
}

Result<CephGateway> CephGateway::start(const fs::path& scratch) {
  if (auto missing = missing_packages()) return make_error(ErrorKind::Io, *missing);
  fs::path dir;
  try {
    dir = testing::TempDir("ceph-", scratch).release();  // the Cluster removes it
  } catch (const std::exception& e) {
    return make_error(ErrorKind::Io, std::string("Ceph gateway: ") + e.what());
  }
  auto cluster = std::make_unique<Cluster>(fs::absolute(dir));
  const fs::path& d = cluster->dir();
  // A Unix socket's path has at most 107 bytes; Ceph would only log its failure to bind one.
  if ((d / "client.rgw.0.asok").string().size() > 107) {
    return cluster->failure("configure", d.string() + " is too long for the admin sockets", {});
  }
  auto ports = pick_base_port(2);
  if (!ports) return ports.error();
  const int mon_port = *ports;
  const int s3_port = *ports + 1;
  auto fsid = new_uuid();
  if (!fsid) return fsid.error();
  // ceph-osd --mkfs does not make its data directory.
  std::error_code ec;
  if (!fs::create_directory(d / "osd", ec)) {
    return make_error(ErrorKind::Io, "Ceph gateway: " + (d / "osd").string() + ": " + ec.message());
  }
  const std::string conf = cluster->conf();
  try {
    testing::write_file(conf, ceph_conf(d, *fsid, mon_port, s3_port));
  } catch (const std::exception& e) {
    return make_error(ErrorKind::Io, std::string("Ceph gateway: ") + e.what());
  }

  const std::string keyring = (d / "keyring").string();
  const std::string monmap = (d / "monmap").string();
  const std::string mon_addr = "v2:127.0.0.1:" + std::to_string(mon_port);
  auto key = [&](const std::string& name, std::vector<std::string> caps) {
    std::vector<std::string> argv = {"/usr/bin/ceph-authtool", keyring, "--gen-key", "-n", name};
    argv.insert(argv.end(), caps.begin(), caps.end());
    return argv;
  };
  // The ceph tool talks to the monitor, and fails when none answers within 30 s.
  auto ceph = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/ceph", "-c", conf, "--connect-timeout", "30"});
    return args;
  };
  struct Step {
    std::string name;
    std::vector<std::string> argv;
    std::string log;      // the daemon whose log explains a failure ("" for none)
    bool daemon = false;  // starts the daemon `log`, rather than running a tool to completion
  };
  // cephx everywhere: the gateway does not start with authentication off.
  const std::vector<Step> steps = {
      {"make the monitor's key",
       {"/usr/bin/ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap",
        "mon", "allow *"},
       ""},
      {"make the admin's key",
       key("client.admin", {"--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr",
                            "allow *"}),
       ""},
      {"make the OSD's key", key("osd.0", {"--cap", "mon", "allow profile osd", "--cap", "osd",
                                           "allow *"}),
       ""},
      {"make the gateway's key",
       key("client.rgw.0", {"--cap", "mon", "allow rw", "--cap", "osd", "allow rwx"}), ""},
      {"make the monitor map",
       {"/usr/bin/monmaptool", "--create", "--add", "mon0", mon_addr, "--fsid", *fsid, monmap},
       ""},
      {"make the monitor's store",
       {"/usr/bin/ceph-mon", "--mkfs", "-i", "mon0", "--monmap", monmap, "-c", conf, "--keyring",
        keyring},
       "mon.mon0"},
      {"start the monitor", {"/usr/bin/ceph-mon", "-f", "-i", "mon0", "-c", conf}, "mon.mon0",
       true},
      {"register the OSD", ceph({"osd", "create"}), "mon.mon0"},
      {"make the OSD's store", {"/usr/bin/ceph-osd", "--mkfs", "-i", "0", "-c", conf}, "osd.0"},
      // Makes the host and root buckets the location names as well.
      {"place the OSD", ceph({"osd", "crush", "add", "osd.0", "1.0", "host=localhost",
                              "root=default"}),
       "mon.mon0"},
      {"start the OSD", {"/usr/bin/ceph-osd", "-f", "-i", "0", "-c", conf}, "osd.0", true},
      {"start the gateway", {"/usr/bin/radosgw", "-f", "-n", "client.rgw.0", "-c", conf},
       "client.rgw.0", true},
  };
  for (const auto& step : steps) {
    Status done = step.daemon ? cluster->spawn(step.name, step.log, step.argv)
                              : cluster->run(step.name, step.argv, step.log);
    if (!done) return done.error();
  }

  // The gateway listens once it has made its pools, which needs the OSD up.
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(s3_port);
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  for (HttpReply reply; (reply = http_request("GET", endpoint + "/")).status == 0;) {
    if (Status running = cluster->check_running(); !running) return running.error();
    if (std::chrono::steady_clock::now() >= deadline) {
      return cluster->failure("wait for the gateway",
                              "no answer at " + endpoint + " within 90 s: " + reply.error,
                              "client.rgw.0");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  std::string access_key = random_string(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  std::string secret_key = random_string(
      40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  if (Status made = cluster->run("make the S3 user",
                                 {"/usr/bin/radosgw-admin", "-c", conf, "user", "create",
                                  "--uid=zk", "--display-name=zk", "--access-key=" + access_key,
                                  "--secret-key=" + secret_key},
                                 "client.admin");
      !made) {
    return made.error();
  }
  return CephGateway(std::move(cluster), endpoint, std::move(access_key), std::move(secret_key));
}

CephGateway::CephGateway(std::unique_ptr<Cluster> cluster, std::string endpoint,
                         std::string access_key, std::string secret_key)
    : cluster_(std::move(cluster)),
      endpoint_(std::move(endpoint)),
      access_key_(std::move(access_key)),
      secret_key_(std::move(secret_key)) {}

CephGateway::CephGateway(CephGateway&&) noexcept = default;
CephGateway& CephGateway::operator=(CephGateway&&) noexcept = default;
CephGateway::~CephGateway() = default;

const fs::path& CephGateway::dir() const { return cluster_->dir(); }

Status CephGateway::make_bucket(const std::string& name) const {
  HttpReply reply =
      http_request("PUT", endpoint_ + "/" + name, access_key_ + ":" + secret_key_, region_);
  if (reply.status == 200) return Ok{};
  return make_error(ErrorKind::Io, "Ceph gateway: PUT bucket " + name + ": " +
                                       (reply.status == 0 ? reply.error
                                                          : "HTTP " + std::to_string(reply.status) +
                                                                " " + reply.body));
}

}  // namespace zktool::testsupport
