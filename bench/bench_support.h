// What the benchmarks share: running a program as an operator would, with its
// wall time and peak RSS, and the median of a measure's runs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"

namespace zktool::bench {

struct ChildRun {
  double seconds = 0;
  double max_rss_mib = 0;
};

// Runs argv (argv[0] a path) to completion under GNU time (/usr/bin/time,
// Debian package time), stdout and stderr appended to `log` ("/dev/null" to
// drop them). The peak RSS is the program's own: measured by wait4 here it
// would include this process's, which a vfork-spawned child inherits across
// exec. A failure to run or a non-zero exit is an error naming the command
// and the log.
Result<ChildRun> run_child(const std::vector<std::string>& argv, const std::filesystem::path& log);

// The middle value (the upper of the two middles for an even count); 0 for none.
double median(std::vector<double> values);

}  // namespace zktool::bench
