// Where zk-tool's messages go. Under systemd, with stderr connected to the
// journal (JOURNAL_STREAM names stderr's device and inode, systemd.exec(5))
// and journald's socket present, log lines are journal entries with
// SYSLOG_IDENTIFIER=zk-tool, and each command's outcome is one structured
// entry (ZKTOOL_* fields) that a monitor can select with
// `journalctl ZKTOOL_RESULT=failed`. Elsewhere: plain lines on stderr, as
// always. Single-threaded use: call from the main thread.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace zktool {

// True when `journal_stream` ("<dev>:<inode>", decimal) names the file that
// descriptor `fd` refers to.
bool fd_is_journal_stream(int fd, const char* journal_stream);

// Sets spdlog's default logger: -v is debug, -vv trace, else warnings only.
void setup_logging(int verbosity);

// A field for the outcome entry of this run, e.g. ("ARCHIVE", path); the name
// is sent as ZKTOOL_<NAME>, so upper case, digits and '_' only. Commands call
// it as they learn things; a later value for a name replaces the earlier one.
void add_result_field(std::string_view name, std::string value);

// The outcome of `command`, once per run: under the journal one entry holding
// ZKTOOL_COMMAND, ZKTOOL_RESULT (ok or failed), ZKTOOL_EXIT_CODE, the error's
// message and the fields added so far; elsewhere (or when the journal refuses
// it) a failure is one line on stderr and success prints nothing.
void log_result(std::string_view command, const Status& status, int exit_code);

}  // namespace zktool
