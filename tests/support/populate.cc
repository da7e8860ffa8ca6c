#include "support/populate.h"

#include <cstdio>
#include <functional>
#include <random>

#include "support/async_writer.h"

namespace zktool::testsupport {

namespace {

constexpr size_t kR1Trees = 4;
constexpr size_t kR1GroupSize = 1000;
constexpr int64_t kLongTtlMs = 3600 * 1000;
constexpr int64_t kShortTtlMs = 1000;

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t b = 0; b < 8 && i + b < n; ++b) out[i + b] = static_cast<char>(v >> (8 * b));
  }
  return out;
}

std::string repeated_text(size_t n) {
  static const std::string kText = "zk-tool backup test data; the quick brown fox. ";
  std::string out;
  out.reserve(n);
  while (out.size() < n) out += kText;
  out.resize(n);
  return out;
}

// Half random (incompressible), half text (compressible): what R1 prescribes.
std::string mixed_data(std::mt19937_64& rng, size_t n) {
  return random_bytes(rng, n / 2) + repeated_text(n - n / 2);
}

ZnodeKind kind_of(CreateMode mode) {
  switch (mode) {
    case CreateMode::kEphemeral:
    case CreateMode::kEphemeralSequential:
      return ZnodeKind::kEphemeral;
    case CreateMode::kContainer:
      return ZnodeKind::kContainer;
    case CreateMode::kPersistentWithTtl:
    case CreateMode::kPersistentSequentialWithTtl:
      return ZnodeKind::kTtl;
    default:
      return ZnodeKind::kPersistent;
  }
}

// Writes through a client and keeps VariedDataSet in step with every write.
class Recorder {
 public:
  Recorder(ZkClient& client, VariedDataSet& set) : client_(client), set_(set) {}

  Result<std::string> create(const std::string& path, std::optional<std::string> data,
                             CreateMode mode = CreateMode::kPersistent, Acl acl = open_acl(),
                             int64_t ttl_ms = -1, ZkClient* via = nullptr) {
    ZkClient& c = via ? *via : client_;
    std::optional<std::string_view> view;
    if (data) view = *data;
    auto made = c.create(path, view, mode, acl, ttl_ms);
    if (!made) return made.error();
    ++set_.writes;
    set_.present[made->path] = ExpectedZnode{std::move(data), std::move(acl), 0, 0, kind_of(mode)};
    return made->path;
  }

  Status set(const std::string& path, std::optional<std::string> data) {
    std::optional<std::string_view> view;
    if (data) view = *data;
    auto st = client_.set(path, view);
    if (!st) return st.error();
    ++set_.writes;
    auto& e = set_.present.at(path);
    e.data = std::move(data);
    ++e.version;
    return Ok{};
  }

  Status set_acl(const std::string& path, Acl acl) {
    if (auto st = client_.set_acl(path, acl); !st) return st;
    ++set_.writes;
    auto& e = set_.present.at(path);
    e.acl = std::move(acl);
    ++e.acl_version;
    return Ok{};
  }

  Status remove(const std::string& path) {
    if (auto st = client_.remove(path); !st) return st;
    ++set_.writes;
    forget(path);
    return Ok{};
  }

  // `path` is gone (or will go) without a write of ours.
  void forget(const std::string& path) {
    set_.present.erase(path);
    set_.absent.push_back(path);
  }

  void reapable(const std::string& path) {
    set_.present.erase(path);
    set_.reapable.push_back(path);
  }

  VariedDataSet& set_data() { return set_; }
  ZkClient& client() { return client_; }

 private:
  ZkClient& client_;
  VariedDataSet& set_;
};

// Each step writes one part of the data set under `root`.

Status write_plain(Recorder& r, const std::string& root) {
  if (auto p = r.create(root + "/persistent", "plain znodes"); !p) return p.error();
  for (int i = 0; i < 10; ++i) {
    auto p = r.create(root + "/persistent/p" + std::to_string(i), "value " + std::to_string(i));
    if (!p) return p.error();
  }
  if (auto p = r.create(root + "/empty", std::string()); !p) return p.error();
  if (auto p = r.create(root + "/null", std::nullopt); !p) return p.error();
  return Ok{};
}

Status write_sequential(Recorder& r, const std::string& root) {
  if (auto p = r.create(root + "/seq", std::nullopt); !p) return p.error();
  for (int i = 0; i < 5; ++i) {
    auto p = r.create(root + "/seq/item-", "item " + std::to_string(i),
                      CreateMode::kPersistentSequential);
    if (!p) return p.error();
  }
  for (int i = 0; i < 2; ++i) {
    auto p = r.create(root + "/seq/lock-", "holder", CreateMode::kEphemeralSequential);
    if (!p) return p.error();
  }
  return Ok{};
}

Status write_ephemerals(Recorder& r, const std::string& root) {
  if (auto p = r.create(root + "/ephemeral", "sessions"); !p) return p.error();
  for (int i = 0; i < 3; ++i) {
    auto p = r.create(root + "/ephemeral/open-" + std::to_string(i), "still here",
                      CreateMode::kEphemeral);
    if (!p) return p.error();
  }
  auto other = ZkClient::connect(r.client().hosts());
  if (!other) return other.error();
  ++r.set_data().writes;  // createSession
  std::vector<std::string> doomed;
  for (int i = 0; i < 3; ++i) {
    auto p = r.create(root + "/ephemeral/closed-" + std::to_string(i), "going away",
                      CreateMode::kEphemeral, open_acl(), -1, other->get());
    if (!p) return p.error();
    doomed.push_back(*p);
  }
  r.set_data().closed_session_id = (*other)->session_id();
  (*other)->close();
  ++r.set_data().writes;  // closeSession
  for (const auto& path : doomed) r.forget(path);
  return Ok{};
}

Status write_containers(Recorder& r, const std::string& root) {
  if (auto p = r.create(root + "/container", "containers"); !p) return p.error();
  const std::string kept = root + "/container/kept";
  const std::string emptied = root + "/container/emptied";
  for (const auto& c : {kept, emptied}) {
    if (auto p = r.create(c, "container", CreateMode::kContainer); !p) return p.error();
    if (auto p = r.create(c + "/child", "child"); !p) return p.error();
  }
  if (auto st = r.remove(emptied + "/child"); !st) return st;
  r.reapable(emptied);
  return Ok{};
}

Status write_ttl(Recorder& r, const std::string& root) {
  if (auto p = r.create(root + "/ttl", "ttl znodes"); !p) return p.error();
  auto p = r.create(root + "/ttl/hour", "lives an hour", CreateMode::kPersistentWithTtl, open_acl(),
                    kLongTtlMs);
  if (!p) return p.error();
  p = r.create(root + "/ttl/seq-", "sequential ttl", CreateMode::kPersistentSequentialWithTtl,
               open_acl(), kLongTtlMs);
  if (!p) return p.error();
  p = r.create(root + "/ttl/second", "expires", CreateMode::kPersistentWithTtl, open_acl(),
               kShortTtlMs);
  if (!p) return p.error();
  r.reapable(*p);
  return Ok{};
}

Status write_acls(Recorder& r, const std::string& root, bool ip_ranges) {
  const std::string credentials = kVariedDigestCredentials;
  auto colon = credentials.find(':');
  const std::string digest = digest_id(credentials.substr(0, colon), credentials.substr(colon + 1));
  if (auto p = r.create(root + "/acl", "acls"); !p) return p.error();
  auto p = r.create(root + "/acl/digest", "digest only", CreateMode::kPersistent,
                    {{kPermAll, "digest", digest}});
  if (!p) return p.error();
  p = r.create(root + "/acl/ip", "by address", CreateMode::kPersistent,
               {{kPermAll, "ip", "127.0.0.1"},
                {kPermRead, "ip", ip_ranges ? "10.1.2.0/24" : "10.1.2.3"}});
  if (!p) return p.error();
  p = r.create(root + "/acl/mixed", "world reads, digest writes", CreateMode::kPersistent,
               {{kPermRead, "world", "anyone"}, {kPermAll & ~kPermRead, "digest", digest}});
  if (!p) return p.error();
  // The server replaces the "auth" id with the session's digest identity.
  p = r.create(root + "/acl/creator", "creator only", CreateMode::kPersistent,
               {{kPermAll, "auth", ""}});
  if (!p) return p.error();
  r.set_data().present.at(*p).acl = {{kPermAll, "digest", digest}};
  p = r.create(root + "/acl/changed", "acl set later");
  if (!p) return p.error();
  return r.set_acl(*p, {{kPermRead | kPermWrite | kPermAdmin, "world", "anyone"}});
}

Status write_multi(Recorder& r, const std::string& root) {
  const std::string dir = root + "/multi";
  if (auto p = r.create(dir, "multi"); !p) return p.error();
  if (auto p = r.create(dir + "/pre", "before"); !p) return p.error();
  if (auto p = r.create(dir + "/gone", "deleted by multi"); !p) return p.error();

  auto outcome = r.client().multi({
      MultiOp::create(dir + "/a", "made by multi"),
      MultiOp::create(dir + "/seq-", "sequential in multi", CreateMode::kPersistentSequential),
      MultiOp::check(dir + "/pre", 0),
      MultiOp::set(dir + "/pre", "after"),
      MultiOp::remove(dir + "/gone"),
  });
  if (!outcome) return outcome.error();
  if (!outcome->ok()) return zk_error("multi", dir, outcome->rc);
  ++r.set_data().writes;
  auto& present = r.set_data().present;
  present[outcome->paths[0]] = ExpectedZnode{"made by multi", open_acl()};
  present[outcome->paths[1]] = ExpectedZnode{"sequential in multi", open_acl()};
  present.at(dir + "/pre").data = "after";
  present.at(dir + "/pre").version = 1;
  r.forget(dir + "/gone");

  // Aborted as a whole by its failing check: ZooKeeper logs it as an error
  // transaction and applies nothing.
  auto aborted = r.client().multi({
      MultiOp::create(dir + "/never", "aborted"),
      MultiOp::check(dir + "/pre", 99),
  });
  if (!aborted) return aborted.error();
  if (aborted->rc != ZBADVERSION) {
    return make_error(ErrorKind::Internal,
                      "multi with a failing check returned rc " + std::to_string(aborted->rc));
  }
  ++r.set_data().writes;
  r.set_data().absent.push_back(dir + "/never");
  return Ok{};
}

Status write_updates_and_deletes(Recorder& r, const std::string& root, int rounds) {
  if (auto p = r.create(root + "/updates", "updated znodes"); !p) return p.error();
  for (int i = 0; i < 5; ++i) {
    auto p = r.create(root + "/updates/u" + std::to_string(i), "round 0");
    if (!p) return p.error();
  }
  for (int round = 1; round <= rounds; ++round) {
    for (int i = 0; i < 5; ++i) {
      std::optional<std::string> data = "round " + std::to_string(round);
      if (i == 4 && round == rounds) data = std::nullopt;  // data can become null again
      if (auto st = r.set(root + "/updates/u" + std::to_string(i), data); !st) return st;
    }
  }
  if (auto p = r.create(root + "/deleted", "some children deleted"); !p) return p.error();
  for (int i = 0; i < 10; ++i) {
    auto p = r.create(root + "/deleted/d" + std::to_string(i), "short-lived");
    if (!p) return p.error();
  }
  for (int i = 0; i < 10; i += 2) {
    if (auto st = r.remove(root + "/deleted/d" + std::to_string(i)); !st) return st;
  }
  return Ok{};
}

// ZooKeeper refuses paths with characters outside the Basic Multilingual
// Plane (PathUtils rejects UTF-16 surrogates: ZBADARGUMENTS), so the emoji
// goes into the data and the paths stay within the BMP.
Status write_unicode(Recorder& r, const std::string& root) {
  std::string path = root;
  for (const char* part : {"/unicodé", "/日本語", "/☃ snow"}) {
    path += part;
    if (auto p = r.create(path, std::string("データ 😀 ") + part); !p) return p.error();
  }
  return Ok{};
}

Status write_large(Recorder& r, const std::string& root, int count, std::mt19937_64& rng) {
  if (auto p = r.create(root + "/large", "near jute.maxbuffer"); !p) return p.error();
  for (int i = 0; i < count; ++i) {
    std::string data =
        i % 2 == 0 ? random_bytes(rng, kLargeZnodeSize) : repeated_text(kLargeZnodeSize);
    if (auto p = r.create(root + "/large/l" + std::to_string(i), std::move(data)); !p) {
      return p.error();
    }
  }
  return Ok{};
}

Status write_deep(Recorder& r, const std::string& root, int levels) {
  std::string path = root + "/deep";
  if (auto p = r.create(path, "deep"); !p) return p.error();
  for (int level = 1; level <= levels; ++level) {
    char name[16];
    std::snprintf(name, sizeof name, "/d%02d", level);
    path += name;
    if (auto p = r.create(path, "level " + std::to_string(level)); !p) return p.error();
  }
  return Ok{};
}

Status write_bulk(Recorder& r, const std::string& root, int count) {
  const std::string dir = root + "/bulk";
  if (auto p = r.create(dir, "pipelined"); !p) return p.error();
  auto& set = r.set_data();
  AsyncWriter writer(r.client());
  auto name = [&](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "/n%05d", i);
    return dir + buf;
  };
  for (int i = 0; i < count; ++i) {
    std::string data = "bulk " + std::to_string(i);
    if (auto st = writer.create(name(i), data); !st) return st;
    set.present[name(i)] = ExpectedZnode{data, open_acl()};
  }
  for (int i = 0; i < count; i += 2) {
    std::string data = "bulk " + std::to_string(i) + " updated";
    if (auto st = writer.set(name(i), data); !st) return st;
    auto& e = set.present.at(name(i));
    e.data = data;
    e.version = 1;
  }
  if (auto st = writer.finish(); !st) return st;
  set.writes += static_cast<size_t>(count + (count + 1) / 2);
  return Ok{};
}

}  // namespace

Result<VariedDataSet> write_varied_data(ZkClient& client, const VariedOptions& options) {
  VariedDataSet set;
  if (auto st = client.add_auth("digest", kVariedDigestCredentials); !st) return st.error();
  set.open_session_id = client.session_id();
  Recorder r(client, set);
  std::mt19937_64 rng(options.seed);
  const std::string& root = options.root;

  if (auto p = r.create(root, "zk-tool conformance data set"); !p) return p.error();
  const std::vector<std::function<Status()>> steps = {
      [&] { return write_plain(r, root); },
      [&] { return write_sequential(r, root); },
      [&] { return write_ephemerals(r, root); },
      [&] { return options.containers ? write_containers(r, root) : Status(Ok{}); },
      [&] { return options.ttl ? write_ttl(r, root) : Status(Ok{}); },
      [&] { return write_acls(r, root, options.ip_ranges); },
      [&] { return write_multi(r, root); },
      [&] { return write_updates_and_deletes(r, root, options.update_rounds); },
      [&] { return write_unicode(r, root); },
      [&] { return write_large(r, root, options.large_znodes, rng); },
      [&] { return write_deep(r, root, options.deep_levels); },
      [&] { return write_bulk(r, root, options.bulk_znodes); },
  };
  for (const auto& step : steps) {
    if (auto st = step(); !st) return st.error();
  }
  return set;
}

std::string r1_path(size_t index) {
  size_t tree = index % kR1Trees;
  size_t group = index / kR1Trees / kR1GroupSize;
  char buf[64];
  std::snprintf(buf, sizeof buf, "/r1-%zu/g%04zu/n%07zu", tree, group, index);
  return buf;
}

Result<R1Summary> write_r1_data(ZkClient& client, const R1Options& options) {
  R1Summary summary;
  std::mt19937_64 rng(options.seed);
  AsyncWriter writer(client, options.window);
  for (size_t i = 0; i < options.znodes; ++i) {
    std::string path = r1_path(i);
    // Groups fill in index order, so a group's parent is new exactly when
    // its first znode comes; the tree roots come with the first group.
    std::string group = path.substr(0, path.rfind('/'));
    if (i < kR1Trees) {
      std::string tree = group.substr(0, group.rfind('/'));
      if (auto st = writer.create(tree, "R1 tree"); !st) return st.error();
      ++summary.parents;
    }
    if (i % (kR1Trees * kR1GroupSize) < kR1Trees) {
      if (auto st = writer.create(group, std::nullopt); !st) return st.error();
      ++summary.parents;
    }
    std::string data = mixed_data(rng, options.data_size);
    if (auto st = writer.create(path, data); !st) return st.error();
    ++summary.znodes;
    summary.data_bytes += data.size();
  }
  for (size_t i = 0; options.update_every > 0 && i < options.znodes; i += options.update_every) {
    std::string data = mixed_data(rng, options.data_size);
    if (auto st = writer.set(r1_path(i), data); !st) return st.error();
    ++summary.updates;
    summary.data_bytes += data.size();
  }
  if (auto st = writer.finish(); !st) return st.error();
  return summary;
}

}  // namespace zktool::testsupport
