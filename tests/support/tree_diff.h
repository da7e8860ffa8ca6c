// Compares two client views of a ZooKeeper tree (ZkClient::snapshot_tree)
// znode by znode: paths, data, null-ness, every stat field and the ACL.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "support/zk_client.h"

namespace zktool::testsupport {

// One line per difference ("<path>: mzxid 0x5 != 0x7", "<path>: missing"),
// at most `limit` of them; empty when the trees agree. Ignores the mtime of
// /zookeeper/config, which every server sets itself when it starts.
std::vector<std::string> diff_trees(const ZnodeTree& expected, const ZnodeTree& actual,
                                    size_t limit = 20);

}  // namespace zktool::testsupport
