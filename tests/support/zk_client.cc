#include "support/zk_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>

#include "support/java_runtime.h"

namespace zktool::testsupport {

namespace {

ZnodeStat to_stat(const Stat& s) {
  return ZnodeStat{s.czxid,    s.mzxid,    s.pzxid,          s.ctime,      s.mtime,      s.version,
                   s.cversion, s.aversion, s.ephemeralOwner, s.dataLength, s.numChildren};
}

Acl to_acl(const ACL_vector* v) {
  Acl acl;
  if (v == nullptr) return acl;
  for (int32_t i = 0; i < v->count; ++i) {
    const ACL& a = v->data[i];
    acl.push_back({a.perms, a.id.scheme ? a.id.scheme : "", a.id.id ? a.id.id : ""});
  }
  return acl;
}

std::vector<std::string> to_names(const String_vector* v) {
  std::vector<std::string> names;
  if (v == nullptr) return names;
  for (int32_t i = 0; i < v->count; ++i) names.emplace_back(v->data[i]);
  std::sort(names.begin(), names.end());
  return names;
}

void fill_data(ZnodeInfo& info, const char* value, int len, const Stat* stat) {
  info.data_null = value == nullptr || len < 0;
  info.data = info.data_null ? std::string() : std::string(value, static_cast<size_t>(len));
  if (stat != nullptr) info.stat = to_stat(*stat);
}

// A C ACL_vector viewing `acl`'s strings; `acl` must outlive it.
class CAcl {
 public:
  explicit CAcl(const Acl& acl) {
    for (const auto& e : acl) {
      entries_.push_back(
          ACL{e.perms, Id{const_cast<char*>(e.scheme.c_str()), const_cast<char*>(e.id.c_str())}});
    }
    vec_.count = static_cast<int32_t>(entries_.size());
    vec_.data = entries_.data();
  }
  const ACL_vector* get() const { return &vec_; }

 private:
  std::vector<ACL> entries_;
  ACL_vector vec_{};
};

int data_length(std::optional<std::string_view> data) {
  return data ? static_cast<int>(data->size()) : -1;
}
const char* data_pointer(std::optional<std::string_view> data) {
  return data ? data->data() : nullptr;
}

// Blocking calls wait on a promise that the completion fulfils.
template <typename T>
std::promise<T>& promise_of(const void* ctx) {
  return *static_cast<std::promise<T>*>(const_cast<void*>(ctx));
}

struct DataReply {
  int rc = ZOK;
  ZnodeInfo info;
};
void on_data(int rc, const char* value, int len, const Stat* stat, const void* ctx) {
  DataReply r{rc, {}};
  if (rc == ZOK) fill_data(r.info, value, len, stat);
  promise_of<DataReply>(ctx).set_value(std::move(r));
}

struct NamesReply {
  int rc = ZOK;
  std::vector<std::string> names;
};
void on_names(int rc, const String_vector* strings, const void* ctx) {
  promise_of<NamesReply>(ctx).set_value(
      {rc, rc == ZOK ? to_names(strings) : std::vector<std::string>{}});
}

struct AclReply {
  int rc = ZOK;
  Acl acl;
};
void on_acl(int rc, ACL_vector* acl, Stat*, const void* ctx) {
  promise_of<AclReply>(ctx).set_value({rc, rc == ZOK ? to_acl(acl) : Acl{}});
}

void on_void(int rc, const void* ctx) { promise_of<int>(ctx).set_value(rc); }
void on_string(int rc, const char*, const void* ctx) { promise_of<int>(ctx).set_value(rc); }

// Issues an asynchronous call and waits for its completion; `call` receives
// the completion's context and returns the C client's immediate rc.
template <typename Reply, typename Call>
Reply await(Call&& call) {
  std::promise<Reply> promise;
  auto future = promise.get_future();
  int rc = call(static_cast<const void*>(&promise));
  if (rc != ZOK) {
    Reply r{};
    if constexpr (std::is_same_v<Reply, int>) {
      r = rc;
    } else {
      r.rc = rc;
    }
    return r;
  }
  return future.get();
}

// The state of snapshot_tree(): paths still to read, znodes read so far.
struct TreeWalk {
  zhandle_t* zh;
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::string> todo;
  size_t in_flight = 0;
  ZnodeTree tree;
  std::optional<Error> error;
};

// One znode being read: its data and its ACL, then its children if the data
// request's stat says it has any (most znodes are leaves, so this saves a
// third of the requests).
struct NodeFetch {
  TreeWalk* walk;
  std::string path;
  int pending;  // requests not yet completed
  bool vanished;
  ZnodeInfo info;
  std::vector<std::string> children;
};

void walk_children(int rc, const String_vector* strings, const void* ctx);

// Records one completed request; `fill` stores its answer. The last one to
// complete files the znode and queues its children.
template <typename Fill>
void fetch_step(NodeFetch* f, const char* op, int rc, Fill&& fill) {
  TreeWalk& walk = *f->walk;
  bool list_children = false;
  bool last = false;
  {
    std::lock_guard lock(walk.m);
    if (rc == ZNONODE) {
      f->vanished = true;
    } else if (rc != ZOK) {
      if (!walk.error) walk.error = zk_error(op, f->path, rc);
    } else if (fill() && !walk.error) {
      list_children = true;
      ++f->pending;
    }
    last = --f->pending == 0;
    if (last) {
      if (!f->vanished && !walk.error) {
        for (const auto& child : f->children) {
          walk.todo.push_back(f->path == "/" ? "/" + child : f->path + "/" + child);
        }
        walk.tree.emplace(f->path, std::move(f->info));
      }
      --walk.in_flight;
      walk.cv.notify_all();
    }
  }
  if (list_children) {
    // A request the client refuses outright never completes: complete it here.
    int issued = zoo_aget_children(walk.zh, f->path.c_str(), 0, walk_children, f);
    if (issued != ZOK) walk_children(issued, nullptr, f);
  } else if (last) {
    delete f;
  }
}

void walk_data(int rc, const char* value, int len, const Stat* stat, const void* ctx) {
  auto* f = static_cast<NodeFetch*>(const_cast<void*>(ctx));
  fetch_step(f, "get", rc, [&] {
    fill_data(f->info, value, len, stat);
    return f->info.stat.num_children > 0;
  });
}
void walk_children(int rc, const String_vector* strings, const void* ctx) {
  auto* f = static_cast<NodeFetch*>(const_cast<void*>(ctx));
  fetch_step(f, "get_children", rc, [&] {
    f->children = to_names(strings);
    return false;
  });
}
void walk_acl(int rc, ACL_vector* acl, Stat*, const void* ctx) {
  auto* f = static_cast<NodeFetch*>(const_cast<void*>(ctx));
  fetch_step(f, "get_acl", rc, [&] {
    f->info.acl = to_acl(acl);
    return false;
  });
}

void issue_fetch(TreeWalk& walk, const std::string& path) {
  auto* f = new NodeFetch{&walk, path, 2, false, {}, {}};
  if (int rc = zoo_aget(walk.zh, path.c_str(), 0, walk_data, f); rc != ZOK) {
    walk_data(rc, nullptr, -1, nullptr, f);
  }
  if (int rc = zoo_aget_acl(walk.zh, path.c_str(), walk_acl, f); rc != ZOK) {
    walk_acl(rc, nullptr, nullptr, f);
  }
}

}  // namespace

Acl open_acl() { return {AclEntry{kPermAll, "world", "anyone"}}; }

std::string digest_id(const std::string& user, const std::string& password) {
  std::string plain = user + ":" + password;
  unsigned char sha[EVP_MAX_MD_SIZE];
  unsigned int sha_len = 0;
  EVP_Digest(plain.data(), plain.size(), sha, &sha_len, EVP_sha1(), nullptr);
  std::string b64(4 * ((sha_len + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), sha, static_cast<int>(sha_len));
  b64.resize(static_cast<size_t>(n));
  return user + ":" + b64;
}

int zoo_create_flags(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent:
      return ZOO_PERSISTENT;
    case CreateMode::kEphemeral:
      return ZOO_EPHEMERAL;
    case CreateMode::kPersistentSequential:
      return ZOO_PERSISTENT_SEQUENTIAL;
    case CreateMode::kEphemeralSequential:
      return ZOO_EPHEMERAL_SEQUENTIAL;
    case CreateMode::kContainer:
      return ZOO_CONTAINER;
    case CreateMode::kPersistentWithTtl:
      return ZOO_PERSISTENT_WITH_TTL;
    case CreateMode::kPersistentSequentialWithTtl:
      return ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL;
  }
  return ZOO_PERSISTENT;
}

Error zk_error(std::string_view op, const std::string& path, int rc) {
  bool session_trouble = (rc < ZOK && rc > ZAPIERROR) || rc == ZSESSIONEXPIRED || rc == ZCLOSING ||
                         rc == ZSESSIONMOVED || rc == ZAUTHFAILED;
  return make_error(session_trouble ? ErrorKind::Unhealthy : ErrorKind::Usage,
                    "zookeeper " + std::string(op) + " " + path + ": " + zerror(rc) + " (rc " +
                        std::to_string(rc) + ")");
}

MultiOp MultiOp::create(std::string path, std::optional<std::string> data, CreateMode mode,
                        Acl acl) {
  MultiOp op;
  op.type = Type::kCreate;
  op.path = std::move(path);
  op.data = std::move(data);
  op.mode = mode;
  op.acl = std::move(acl);
  return op;
}

MultiOp MultiOp::remove(std::string path, int32_t version) {
  MultiOp op;
  op.type = Type::kDelete;
  op.path = std::move(path);
  op.version = version;
  return op;
}

MultiOp MultiOp::set(std::string path, std::optional<std::string> data, int32_t version) {
  MultiOp op;
  op.type = Type::kSet;
  op.path = std::move(path);
  op.data = std::move(data);
  op.version = version;
  return op;
}

MultiOp MultiOp::check(std::string path, int32_t version) {
  MultiOp op;
  op.type = Type::kCheck;
  op.path = std::move(path);
  op.version = version;
  return op;
}

void ZkClient::on_session_event(zhandle_t*, int type, int state, const char*, void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* self = static_cast<ZkClient*>(ctx);
  std::lock_guard lock(self->mutex_);
  self->state_ = state;
  self->state_changed_.notify_all();
}

Result<std::unique_ptr<ZkClient>> ZkClient::connect(const std::string& hosts,
                                                    std::chrono::milliseconds timeout,
                                                    std::chrono::milliseconds session_timeout) {
  // The C client logs every connection at INFO to stderr; keep its warnings only.
  static std::once_flag quiet;
  std::call_once(quiet, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
  std::unique_ptr<ZkClient> client(new ZkClient(hosts));
  client->zh_ = zookeeper_init(hosts.c_str(), &ZkClient::on_session_event,
                               static_cast<int>(session_timeout.count()), nullptr, client.get(),
                               ZOO_NO_LOG_CLIENTENV);
  if (client->zh_ == nullptr) {
    return make_error(ErrorKind::Usage, "zookeeper_init " + hosts + ": " + std::strerror(errno));
  }
  std::unique_lock lock(client->mutex_);
  bool settled = client->state_changed_.wait_for(lock, timeout, [&] {
    int s = client->state_;
    return s == ZOO_CONNECTED_STATE || s == ZOO_EXPIRED_SESSION_STATE || s == ZOO_AUTH_FAILED_STATE;
  });
  if (!settled || client->state_ != ZOO_CONNECTED_STATE) {
    return make_error(ErrorKind::Unhealthy, "no ZooKeeper session with " + hosts + " within " +
                                                std::to_string(timeout.count()) + " ms (state " +
                                                std::to_string(client->state_) + ")");
  }
  return client;
}

ZkClient::~ZkClient() { close(); }

void ZkClient::close() {
  if (zh_ == nullptr) return;
  zookeeper_close(zh_);
  zh_ = nullptr;
}

int64_t ZkClient::session_id() const {
  if (zh_ == nullptr) return 0;
  return zoo_client_id(zh_)->client_id;
}

Status ZkClient::add_auth(const std::string& scheme, const std::string& credentials) {
  int rc = await<int>([&](const void* ctx) {
    return zoo_add_auth(zh_, scheme.c_str(), credentials.data(),
                        static_cast<int>(credentials.size()), on_void, ctx);
  });
  if (rc != ZOK) return zk_error("add_auth " + scheme, hosts_, rc);
  return Ok{};
}

namespace {

// A request whose answer was lost (the server stalled past the client's
// timeout, or the connection dropped) may or may not have been applied. An
// unconditional set or delete, or a create of a fixed name, can simply be
// sent again once the client has reconnected; a few attempts ride out one
// stalled member.
constexpr int kAttempts = 3;

bool answer_lost(int rc) { return rc == ZOPERATIONTIMEOUT || rc == ZCONNECTIONLOSS; }

bool is_sequential(CreateMode mode) {
  return mode == CreateMode::kPersistentSequential || mode == CreateMode::kEphemeralSequential ||
         mode == CreateMode::kPersistentSequentialWithTtl;
}

}  // namespace

Result<Created> ZkClient::create(const std::string& path, std::optional<std::string_view> data,
                                 CreateMode mode, const Acl& acl, int64_t ttl_ms) {
  CAcl c_acl(acl);
  std::vector<char> created(path.size() + 64);
  Stat stat{};
  // ZooKeeper 3.4 knows no create2 (and closes the connection on one): a
  // plain create there, then the stat it does not return.
  const bool plain = zookeeper_under_test() == ZooKeeperRelease::k3_4_14 && ttl_ms < 0 &&
                     mode != CreateMode::kContainer;
  auto send = [&] {
    if (!plain) {
      return zoo_create2_ttl(zh_, path.c_str(), data_pointer(data), data_length(data),
                             c_acl.get(), zoo_create_flags(mode), ttl_ms, created.data(),
                             static_cast<int>(created.size()), &stat);
    }
    int rc = zoo_create(zh_, path.c_str(), data_pointer(data), data_length(data), c_acl.get(),
                        zoo_create_flags(mode), created.data(), static_cast<int>(created.size()));
    return rc == ZOK ? zoo_exists(zh_, created.data(), 0, &stat) : rc;
  };
  int rc = send();
  // A sequential create cannot be sent again: a lost one may have made a
  // node whose name nobody knows. Any other can, and a node that then exists
  // with the data sent is the one the lost request made.
  for (int attempt = 1; attempt < kAttempts && answer_lost(rc) && !is_sequential(mode);
       ++attempt) {
    rc = send();
    if (rc != ZNODEEXISTS) continue;
    auto existing = get(path);
    std::string_view sent = data.value_or(std::string_view{});
    if (existing && existing->data == sent && existing->data_null == !data.has_value()) {
      return Created{path, existing->stat};
    }
  }
  if (rc != ZOK) return zk_error("create", path, rc);
  return Created{created.data(), to_stat(stat)};
}

Result<ZnodeStat> ZkClient::set(const std::string& path, std::optional<std::string_view> data,
                                int32_t version) {
  Stat stat{};
  int rc = ZOK;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    rc = zoo_set2(zh_, path.c_str(), data_pointer(data), data_length(data), version, &stat);
    if (!answer_lost(rc) || version != -1) break;
  }
  if (rc != ZOK) return zk_error("set", path, rc);
  return to_stat(stat);
}

Status ZkClient::remove(const std::string& path, int32_t version) {
  int rc = zoo_delete(zh_, path.c_str(), version);
  for (int attempt = 1; attempt < kAttempts && answer_lost(rc) && version == -1; ++attempt) {
    rc = zoo_delete(zh_, path.c_str(), version);
    if (rc == ZNONODE) rc = ZOK;  // the lost request had deleted it
  }
  if (rc != ZOK) return zk_error("delete", path, rc);
  return Ok{};
}

Status ZkClient::set_acl(const std::string& path, const Acl& acl, int32_t version) {
  CAcl c_acl(acl);
  int rc = zoo_set_acl(zh_, path.c_str(), version, c_acl.get());
  if (rc != ZOK) return zk_error("set_acl", path, rc);
  return Ok{};
}

Result<bool> ZkClient::exists(const std::string& path) {
  Stat stat{};
  int rc = zoo_exists(zh_, path.c_str(), 0, &stat);
  if (rc == ZNONODE) return false;
  if (rc != ZOK) return zk_error("exists", path, rc);
  return true;
}

Result<ZnodeInfo> ZkClient::get(const std::string& path) {
  auto reply = await<DataReply>(
      [&](const void* ctx) { return zoo_aget(zh_, path.c_str(), 0, on_data, ctx); });
  if (reply.rc != ZOK) return zk_error("get", path, reply.rc);
  return std::move(reply.info);
}

Result<std::vector<std::string>> ZkClient::get_children(const std::string& path) {
  auto reply = await<NamesReply>(
      [&](const void* ctx) { return zoo_aget_children(zh_, path.c_str(), 0, on_names, ctx); });
  if (reply.rc != ZOK) return zk_error("get_children", path, reply.rc);
  return std::move(reply.names);
}

Result<Acl> ZkClient::get_acl(const std::string& path) {
  auto reply = await<AclReply>(
      [&](const void* ctx) { return zoo_aget_acl(zh_, path.c_str(), on_acl, ctx); });
  if (reply.rc != ZOK) return zk_error("get_acl", path, reply.rc);
  return std::move(reply.acl);
}

Status ZkClient::sync(const std::string& path) {
  int rc =
      await<int>([&](const void* ctx) { return zoo_async(zh_, path.c_str(), on_string, ctx); });
  if (rc != ZOK) return zk_error("sync", path, rc);
  return Ok{};
}

Result<MultiOutcome> ZkClient::multi(const std::vector<MultiOp>& ops) {
  std::vector<zoo_op_t> c_ops(ops.size());
  std::vector<zoo_op_result_t> results(ops.size());
  std::vector<std::unique_ptr<CAcl>> acls;
  std::vector<std::vector<char>> created(ops.size());
  std::vector<Stat> stats(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const MultiOp& op = ops[i];
    std::optional<std::string_view> data;
    if (op.data) data = *op.data;
    switch (op.type) {
      case MultiOp::Type::kCreate:
        acls.push_back(std::make_unique<CAcl>(op.acl));
        created[i].resize(op.path.size() + 64);
        zoo_create_op_init(&c_ops[i], op.path.c_str(), data_pointer(data), data_length(data),
                           acls.back()->get(), zoo_create_flags(op.mode), created[i].data(),
                           static_cast<int>(created[i].size()));
        break;
      case MultiOp::Type::kDelete:
        zoo_delete_op_init(&c_ops[i], op.path.c_str(), op.version);
        break;
      case MultiOp::Type::kSet:
        zoo_set_op_init(&c_ops[i], op.path.c_str(), data_pointer(data), data_length(data),
                        op.version, &stats[i]);
        break;
      case MultiOp::Type::kCheck:
        zoo_check_op_init(&c_ops[i], op.path.c_str(), op.version);
        break;
    }
  }
  int rc = zoo_multi(zh_, static_cast<int>(c_ops.size()), c_ops.data(), results.data());
  if (rc != ZOK) {
    auto failed = zk_error("multi", ops.empty() ? "" : ops.front().path, rc);
    if (failed.kind == ErrorKind::Unhealthy) return failed;
  }
  MultiOutcome outcome;
  outcome.rc = rc;
  for (size_t i = 0; i < ops.size(); ++i) {
    outcome.op_results.push_back(results[i].err);
    bool made = ops[i].type == MultiOp::Type::kCreate && rc == ZOK;
    outcome.paths.push_back(made ? std::string(created[i].data()) : ops[i].path);
  }
  return outcome;
}

Result<ZnodeTree> ZkClient::snapshot_tree(size_t window) {
  if (auto st = sync("/"); !st) return st.error();
  TreeWalk walk;
  walk.zh = zh_;
  std::unique_lock lock(walk.m);
  walk.todo.push_back("/");
  for (;;) {
    while (!walk.error && !walk.todo.empty() && walk.in_flight < std::max<size_t>(window, 1)) {
      std::string path = std::move(walk.todo.front());
      walk.todo.pop_front();
      ++walk.in_flight;
      lock.unlock();
      issue_fetch(walk, path);
      lock.lock();
    }
    if (walk.in_flight == 0 && (walk.todo.empty() || walk.error)) break;
    walk.cv.wait(lock);
  }
  if (walk.error) return *walk.error;
  return std::move(walk.tree);
}

}  // namespace zktool::testsupport
