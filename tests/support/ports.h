// Free TCP ports for the servers tests start on loopback addresses.
#pragma once

#include "util/result.h"

namespace zktool::testsupport {

// The first of `ports_needed` consecutive ports free on each of the first
// `hosts` loopback addresses (127.0.0.1, 127.0.0.2, ...). They lie below
// Linux's ephemeral range, so no outgoing connection takes one between this
// probe and the server binding it, and the search starts at a block derived
// from the pid and the number of earlier calls, so that test binaries running
// in parallel, and servers started one after another in one binary, do not
// collide.
Result<int> pick_base_port(int ports_needed, int hosts = 1);

}  // namespace zktool::testsupport
