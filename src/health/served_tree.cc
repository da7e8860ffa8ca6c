#include "health/served_tree.h"

#include <zookeeper.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <vector>

#include "health/four_letter.h"

namespace zktool::health {

namespace {

using Clock = std::chrono::steady_clock;

// jute.maxbuffer's default: no znode holds more, unless a server raised it.
constexpr int kFirstReadBuffer = 1 << 20;
constexpr int64_t kLargestData = int64_t{64} << 20;

// A session without credentials, closed on destruction.
class Session {
 public:
  static Result<std::unique_ptr<Session>> open(const std::string& where,
                                               Clock::time_point deadline) {
    // The C client logs each connection to stderr; zk-tool's own lines say what matters.
    static std::once_flag quiet;
    std::call_once(quiet, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR); });
    auto session = std::unique_ptr<Session>(new Session);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const int session_timeout = static_cast<int>(std::clamp<int64_t>(left.count(), 4000, 30000));
    session->zh_ = zookeeper_init(where.c_str(), &Session::on_event, session_timeout, nullptr,
                                  session.get(), ZOO_NO_LOG_CLIENTENV);
    if (session->zh_ == nullptr) {
      return make_error(ErrorKind::Unhealthy,
                        "no ZooKeeper session with " + where + ": " + std::strerror(errno));
    }
    std::unique_lock lock(session->mutex_);
    bool settled = session->changed_.wait_until(lock, deadline, [&] {
      return session->state_ == ZOO_CONNECTED_STATE || session->state_ == ZOO_EXPIRED_SESSION_STATE;
    });
    if (!settled || session->state_ != ZOO_CONNECTED_STATE) {
      return make_error(ErrorKind::Unhealthy, "no ZooKeeper session with " + where + " in time");
    }
    return session;
  }

  ~Session() {
    if (zh_ != nullptr) zookeeper_close(zh_);
  }

  zhandle_t* handle() const { return zh_; }

  // Brings the server up to date with the leader (zoo_async has no synchronous form).
  int sync() {
    std::promise<int> done;
    int rc = zoo_async(zh_, "/", &Session::on_sync, &done);
    return rc != ZOK ? rc : done.get_future().get();
  }

 private:
  Session() = default;
  static void on_event(zhandle_t*, int type, int state, const char*, void* context) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<Session*>(context);
    std::lock_guard lock(self->mutex_);
    self->state_ = state;
    self->changed_.notify_all();
  }
  static void on_sync(int rc, const char*, const void* context) {
    static_cast<std::promise<int>*>(const_cast<void*>(context))->set_value(rc);
  }

  zhandle_t* zh_ = nullptr;
  std::mutex mutex_;
  std::condition_variable changed_;
  int state_ = 0;
};

ServedStat served_stat(const Stat& s) {
  return {s.czxid, s.mzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion,
          s.ephemeralOwner, s.numChildren, s.pzxid};
}

std::string child_path(const std::string& parent, const char* name) {
  std::string path = parent == "/" ? std::string() : parent;
  return path.append("/").append(name);
}

Error failed(const std::string& where, const char* op, const std::string& path, int rc) {
  return make_error(ErrorKind::Unhealthy, "reading back the tree from " + where + ": " + op + " " +
                                              path + ": " + zerror(rc));
}

// Reads `path` into `buffer` (grown as needed): its data and stat, or (ACL
// denies READ) its stat alone. nullopt when it no longer exists.
Result<std::optional<ServedZnode>> read_znode(zhandle_t* zh, const std::string& where,
                                              const std::string& path, std::vector<char>& buffer) {
  ServedZnode znode{path, std::nullopt, true, {}};
  for (;;) {
    int length = static_cast<int>(buffer.size());
    Stat stat{};
    int rc = zoo_get(zh, path.c_str(), 0, buffer.data(), &length, &stat);
    if (rc == ZNONODE) return std::optional<ServedZnode>();
    if (rc == ZNOAUTH) {
      rc = zoo_exists(zh, path.c_str(), 0, &stat);
      if (rc == ZNONODE) return std::optional<ServedZnode>();
      if (rc != ZOK) return failed(where, "exists", path, rc);
      znode.readable = false;
      znode.stat = served_stat(stat);
      return std::optional<ServedZnode>(std::move(znode));
    }
    if (rc != ZOK) return failed(where, "get", path, rc);
    // A larger znode than the buffer is cut short: read it again, as large as its stat says.
    if (stat.dataLength > static_cast<int64_t>(buffer.size()) && stat.dataLength <= kLargestData) {
      buffer.resize(static_cast<size_t>(stat.dataLength));
      continue;
    }
    if (length >= 0) znode.data = std::string(buffer.data(), static_cast<size_t>(length));
    znode.stat = served_stat(stat);
    return std::optional<ServedZnode>(std::move(znode));
  }
}

}  // namespace

Result<ServedWalk> walk_served_tree(const Endpoint& endpoint, const ServedWalkOptions& options,
                                    const ServedVisitor& visit) {
  const std::string where = host_port(endpoint.host, endpoint.client_port);
  const auto deadline = Clock::now() + options.timeout;
  auto session = Session::open(where, deadline);
  if (!session) return session.error();
  zhandle_t* zh = (*session)->handle();
  if (int rc = (*session)->sync(); rc != ZOK) return failed(where, "sync", "/", rc);

  ServedWalk walk;
  std::vector<char> buffer(kFirstReadBuffer);
  std::deque<std::string> todo{"/"};
  while (!todo.empty()) {
    if (walk.read == options.max_znodes) {
      walk.sampled = true;
      break;
    }
    if (Clock::now() > deadline) {
      return make_error(ErrorKind::Unhealthy, "reading back the tree from " + where +
                                                  " took longer than " +
                                                  std::to_string(options.timeout.count()) +
                                                  " ms (" + std::to_string(walk.read) +
                                                  " znodes read)");
    }
    std::string path = std::move(todo.front());
    todo.pop_front();
    auto znode = read_znode(zh, where, path, buffer);
    if (!znode) return znode.error();
    if (!*znode) continue;  // deleted since its parent was listed
    ++walk.read;
    if (!(*znode)->readable) ++walk.unreadable;
    if ((*znode)->readable && (*znode)->stat.num_children > 0) {
      String_vector children{};
      int rc = zoo_get_children(zh, path.c_str(), 0, &children);
      if (rc != ZOK && rc != ZNONODE) return failed(where, "get_children", path, rc);
      std::vector<std::string> names;
      for (int32_t i = 0; rc == ZOK && i < children.count; ++i) {
        std::string child = child_path(path, children.data[i]);
        if (child != "/zookeeper") names.push_back(std::move(child));
      }
      if (rc == ZOK) deallocate_String_vector(&children);
      std::sort(names.begin(), names.end());
      todo.insert(todo.end(), std::make_move_iterator(names.begin()),
                  std::make_move_iterator(names.end()));
    }
    if (Status s = visit(**znode); !s) return s.error();
  }
  return walk;
}

}  // namespace zktool::health
