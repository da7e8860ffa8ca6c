// A ZooKeeper session over libzookeeper-mt for tests and data generators.
// One ZkClient is one session: close() or the destructor ends it, and with it
// its ephemeral znodes. Calls block until the server answers; they may come
// from several threads, but not concurrently with close(). The C client's own
// log (stderr) is turned down to warnings.
#pragma once

#include <zookeeper.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace zktool::testsupport {

inline constexpr int32_t kPermRead = 1;
inline constexpr int32_t kPermWrite = 2;
inline constexpr int32_t kPermCreate = 4;
inline constexpr int32_t kPermDelete = 8;
inline constexpr int32_t kPermAdmin = 16;
inline constexpr int32_t kPermAll = 31;

struct AclEntry {
  int32_t perms = kPermAll;
  std::string scheme;  // world, digest, ip, auth
  std::string id;
  auto operator<=>(const AclEntry&) const = default;
};
using Acl = std::vector<AclEntry>;

// world:anyone with every permission (ZOO_OPEN_ACL_UNSAFE).
Acl open_acl();
// The id the digest scheme stores for user:password:
// "user:" + base64(sha1("user:password")).
std::string digest_id(const std::string& user, const std::string& password);

enum class CreateMode {
  kPersistent,
  kEphemeral,
  kPersistentSequential,
  kEphemeralSequential,
  kContainer,
  kPersistentWithTtl,  // these two need the server's extendedTypesEnabled
  kPersistentSequentialWithTtl,
};

struct ZnodeStat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t pzxid = 0;
  int64_t ctime = 0;  // milliseconds since the epoch
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  // The owning session of an ephemeral, else 0: servers show clients 0 for
  // containers and TTL znodes too (only snapshots and logs hold their markers).
  int64_t ephemeral_owner = 0;
  int32_t data_length = 0;
  int32_t num_children = 0;
  bool operator==(const ZnodeStat&) const = default;
};

struct ZnodeInfo {
  std::string data;
  bool data_null = false;  // the znode's data is null, not merely empty
  ZnodeStat stat;
  Acl acl;  // filled by snapshot_tree() and get_acl(), not by get()
};

// Every znode by absolute path ("/" is the root), with data, stat and ACL.
using ZnodeTree = std::map<std::string, ZnodeInfo>;

struct Created {
  std::string path;  // with the sequence suffix for sequential modes
  ZnodeStat stat;
};

// One operation of a multi. Creates take persistent, ephemeral and
// sequential modes (the C client sends every multi create as a plain create).
struct MultiOp {
  enum class Type { kCreate, kDelete, kSet, kCheck };
  Type type = Type::kCheck;
  std::string path;
  std::optional<std::string> data;  // nullopt is null data
  CreateMode mode = CreateMode::kPersistent;
  Acl acl;
  int32_t version = -1;  // -1 matches any version (not for kCheck)

  static MultiOp create(std::string path, std::optional<std::string> data,
                        CreateMode mode = CreateMode::kPersistent, Acl acl = open_acl());
  static MultiOp remove(std::string path, int32_t version = -1);
  static MultiOp set(std::string path, std::optional<std::string> data, int32_t version = -1);
  static MultiOp check(std::string path, int32_t version);
};

// A multi that ZooKeeper refused is an answer, not an error: it is atomic, so
// nothing was applied, and `op_results` says which operation failed.
struct MultiOutcome {
  int rc = ZOK;
  std::vector<int> op_results;
  std::vector<std::string> paths;  // as created (sequence suffixes) or as given
  bool ok() const { return rc == ZOK; }
};

// The C client's flags for a create mode.
int zoo_create_flags(CreateMode mode);

// The Error for a ZooKeeper return code: Unhealthy when the connection or
// session failed, Usage when the tree refused the request (no node, node
// exists, bad version, not authenticated...). Names the operation and path.
Error zk_error(std::string_view op, const std::string& path, int rc);

class ZkClient {
 public:
  // Opens a session to `hosts` ("host:port,...") and waits until it is
  // connected; Unhealthy when that does not happen within `timeout`.
  static Result<std::unique_ptr<ZkClient>> connect(
      const std::string& hosts, std::chrono::milliseconds timeout = std::chrono::seconds(30),
      std::chrono::milliseconds session_timeout = std::chrono::seconds(30));

  ZkClient(const ZkClient&) = delete;
  ZkClient& operator=(const ZkClient&) = delete;
  ~ZkClient();

  const std::string& hosts() const { return hosts_; }
  int64_t session_id() const;
  // For asynchronous bulk writes (AsyncWriter). Null after close().
  zhandle_t* handle() const { return zh_; }

  // Adds credentials to the session, e.g. ("digest", "user:password").
  Status add_auth(const std::string& scheme, const std::string& credentials);

  // `data` nullopt creates null data. `ttl_ms` is for the TTL modes only.
  Result<Created> create(const std::string& path, std::optional<std::string_view> data,
                         CreateMode mode = CreateMode::kPersistent, const Acl& acl = open_acl(),
                         int64_t ttl_ms = -1);
  Result<ZnodeStat> set(const std::string& path, std::optional<std::string_view> data,
                        int32_t version = -1);
  Status remove(const std::string& path, int32_t version = -1);
  Status set_acl(const std::string& path, const Acl& acl, int32_t version = -1);
  Result<bool> exists(const std::string& path);
  Result<ZnodeInfo> get(const std::string& path);
  Result<std::vector<std::string>> get_children(const std::string& path);  // names, sorted
  Result<Acl> get_acl(const std::string& path);
  Result<MultiOutcome> multi(const std::vector<MultiOp>& ops);
  // Brings the server this session talks to up to date with the leader.
  Status sync(const std::string& path = "/");

  // Syncs, then reads every znode reachable from "/" (data, stat, ACL),
  // keeping up to `window` znodes in flight. Meant for a quiescent tree: a
  // znode deleted during the walk is left out. Fails on a znode this session
  // may not read (add the digest credentials first).
  Result<ZnodeTree> snapshot_tree(size_t window = 64);

  // Ends the session (its ephemerals go). Idempotent.
  void close();

 private:
  explicit ZkClient(std::string hosts) : hosts_(std::move(hosts)) {}
  static void on_session_event(zhandle_t* zh, int type, int state, const char* path, void* ctx);

  std::string hosts_;
  zhandle_t* zh_ = nullptr;
  std::mutex mutex_;
  std::condition_variable state_changed_;
  int state_ = 0;
};

}  // namespace zktool::testsupport
