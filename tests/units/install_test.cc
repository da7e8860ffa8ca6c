// `cmake --install` and `cpack -G DEB` on this build tree: every file that
// ships lands where the installed unit says it is, and the Debian package
// holds the same files, with its Depends computed, its conffile marked and
// systemd reloaded by its maintainer scripts.
#include <sys/stat.h>

#include <algorithm>
#include <iostream>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "support/files.h"
#include "support/process.h"
#include "unit_files.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using testing::read_file;

constexpr const char* kUnitSuffix = "lib/systemd/system/zk-tool-backup.service";

// Where an install put things, read back from the installed service unit.
struct Layout {
  std::string unit;      // relative to the install root, like every path here
  std::string timer;
  std::string binary;    // ExecStart's program
  std::string config;    // its --config
  std::string backups;   // its --dir
  std::string man_page;  // beside bin/ under the same prefix, gzip-compressed
  std::string doc_dir;   // the copyright file and the changelog
  std::string tmpfiles;  // makes the backup directory
};

std::string relative(const std::string& absolute) { return absolute.substr(1); }

// A gzip file's contents (man pages and changelogs ship compressed, as Debian's policy asks).
std::string gunzip(const fs::path& file) {
  auto run = ts::run_captured({"/usr/bin/gzip", "-dc", file.string()});
  EXPECT_EQ(run.exit_code, 0) << file << ": " << run.err;
  return run.out;
}

Layout read_layout(const fs::path& root) {
  Layout layout;
  for (const std::string& f : testing::regular_files(root)) {
    if (std::string_view(f).ends_with(kUnitSuffix)) layout.unit = f;
  }
  if (layout.unit.empty()) return layout;
  layout.timer = fs::path(layout.unit).replace_extension(".timer").string();
  auto exec = testing::setting_words(read_file(root / layout.unit), "ExecStart");
  if (exec.size() != 6 || exec[1] != "backup" || exec[2] != "--dir" || exec[4] != "--config") {
    ADD_FAILURE() << "unexpected ExecStart in " << layout.unit;
    return layout;
  }
  layout.binary = relative(exec[0]);
  layout.backups = relative(exec[3]);
  layout.config = relative(exec[5]);
  fs::path prefix = fs::path(layout.binary).parent_path().parent_path();
  layout.man_page = (prefix / "share/man/man1/zk-tool.1.gz").string();
  layout.doc_dir = (prefix / "share/doc/zk-tool").string();
  layout.tmpfiles = (prefix / "lib/tmpfiles.d/zk-tool.conf").string();
  return layout;
}

void expect_shipped_files(const fs::path& root, const Layout& layout) {
  ASSERT_FALSE(layout.unit.empty()) << "no " << kUnitSuffix << " under " << root;
  std::vector<std::string> expected = {layout.binary,
                                       layout.config,
                                       layout.man_page,
                                       layout.doc_dir + "/copyright",
                                       layout.doc_dir + "/changelog.gz",
                                       layout.tmpfiles,
                                       layout.unit,
                                       layout.timer};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(testing::regular_files(root), expected);
  fs::path prefix = fs::path(layout.binary).parent_path().parent_path();
  EXPECT_EQ(fs::path(layout.unit).parent_path(), prefix / "lib/systemd/system");
  EXPECT_EQ(read_file(root / layout.timer),
            read_file(ZKTOOL_UNITS_SOURCE_DIR "/zk-tool-backup.timer"));
  EXPECT_EQ(read_file(root / layout.config), read_file(ZKTOOL_UNITS_SOURCE_DIR "/zk-tool.conf"));
  EXPECT_EQ(gunzip(root / layout.man_page), read_file(ZKTOOL_UNITS_SOURCE_DIR "/zk-tool.1"));
  EXPECT_EQ(gunzip(root / layout.doc_dir / "changelog.gz"),
            read_file(ZKTOOL_UNITS_SOURCE_DIR "/debian/changelog"));
  EXPECT_EQ(read_file(root / layout.doc_dir / "copyright"),
            read_file(ZKTOOL_UNITS_SOURCE_DIR "/debian/copyright"));
  EXPECT_NE(read_file(root / layout.tmpfiles).find("\nd /" + layout.backups + " 0700 root root -\n"),
            std::string::npos)
      << "the tmpfiles.d entry makes the unit's --dir, private";
}

// `cmake --install` into `dest`; the failure's output, or empty.
std::string install_into(const fs::path& dest) {
  auto install = ts::run_captured({"/usr/bin/env", "DESTDIR=" + dest.string(), ZKTOOL_CMAKE,
                                   "--install", ZKTOOL_BUILD_DIR});
  return install.exit_code == 0 ? std::string() : install.out + install.err;
}

TEST(Install, DestdirHoldsWhatTheUnitNames) {
  testing::TempDir dest;
  ASSERT_EQ(install_into(dest.path()), "");
  Layout layout = read_layout(dest.path());
  expect_shipped_files(dest.path(), layout);
  if (layout.binary == "usr/bin/zk-tool") {
    EXPECT_EQ(layout.config, "etc/zk-tool/zk-tool.conf") << "zk-tool's built-in default";
  }

  // The installed program is the one built here, and runs.
  auto version = ts::run_captured({(dest.path() / layout.binary).string(), "--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  auto built = ts::run_captured({ZKTOOL_BINARY, "--version"});
  EXPECT_EQ(version.out, built.out);
  // systemd-tmpfiles, as at boot and in the package's postinst, makes the backup directory.
  auto tmpfiles = ts::run_captured({"/usr/bin/systemd-tmpfiles", "--create",
                                    "--root=" + dest.path().string(), "zk-tool.conf"});
  EXPECT_EQ(tmpfiles.exit_code, 0) << tmpfiles.out << tmpfiles.err;
  struct stat st {};
  ASSERT_EQ(::stat((dest.path() / layout.backups).c_str(), &st), 0) << layout.backups;
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "backups hold every znode";
}

// systemd-analyze over the installed tree as root: the machine's own units
// (for the targets ours depend on) copied in beside ours, and `man` pointed
// at the installed man page (Documentation=man:zk-tool(1) is checked).
TEST(Install, ShippedUnitsPassSystemdAnalyze) {
  testing::TempDir dest;
  ASSERT_EQ(install_into(dest.path()), "");
  Layout layout = read_layout(dest.path());
  ASSERT_FALSE(layout.unit.empty());
  fs::create_directories(dest.path() / "lib/systemd");
  fs::copy("/lib/systemd/system", dest.path() / "lib/systemd/system",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks |
               fs::copy_options::skip_existing);
  const std::string root = "--root=" + dest.path().string();
  const std::string manpath =
      "MANPATH=" + (dest.path() / layout.man_page).parent_path().parent_path().string();
  const std::string unit = (dest.path() / layout.unit).string();
  auto verify = ts::run_captured({"/usr/bin/env", manpath, "/usr/bin/systemd-analyze", "verify",
                                  root, unit, (dest.path() / layout.timer).string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(verify.err, "") << "systemd-analyze verify warns";

  // At most 2.5 of 10 ("OK"); the report is printed for the record.
  auto security = ts::run_captured({"/usr/bin/systemd-analyze", "security", "--offline=yes",
                                    "--threshold=25", root, unit});
  EXPECT_EQ(security.exit_code, 0) << security.out << security.err;
  size_t overall = security.out.find("Overall exposure level");
  ASSERT_NE(overall, std::string::npos) << security.out << security.err;
  std::cout << security.out.substr(overall);
}

std::string deb_field(const fs::path& deb, const std::string& field) {
  auto run = ts::run_captured({"/usr/bin/dpkg-deb", "-f", deb.string(), field});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return run.out;
}

std::string deb_control_file(const fs::path& deb, const std::string& name) {
  auto run = ts::run_captured({"/usr/bin/dpkg-deb", "-I", deb.string(), name});
  EXPECT_EQ(run.exit_code, 0) << name << ": " << run.err;
  return run.out;
}

TEST(Install, DebianPackageShipsTheSameFiles) {
  testing::TempDir out;
  auto cpack = ts::run_captured({ZKTOOL_CPACK, "-G", "DEB", "--config",
                                 ZKTOOL_BUILD_DIR "/CPackConfig.cmake", "-B", out.path().string()});
  ASSERT_EQ(cpack.exit_code, 0) << cpack.out << cpack.err;
  fs::path deb;
  for (const auto& e : fs::directory_iterator(out.path())) {
    if (e.path().extension() == ".deb") deb = e.path();
  }
  ASSERT_FALSE(deb.empty()) << cpack.out;

  // The package's contents, unpacked, are exactly the shipped files.
  testing::TempDir root;
  auto extract = ts::run_captured({"/usr/bin/dpkg-deb", "-x", deb.string(), root.path().string()});
  ASSERT_EQ(extract.exit_code, 0) << extract.err;
  Layout layout = read_layout(root.path());
  expect_shipped_files(root.path(), layout);
  auto listing = ts::run_captured({"/usr/bin/dpkg-deb", "-c", deb.string()});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  for (const std::string& f : {layout.binary, layout.unit, layout.timer, layout.config,
                               layout.man_page, layout.tmpfiles}) {
    EXPECT_NE(listing.out.find(" ./" + f + "\n"), std::string::npos) << f << " in\n" << listing.out;
  }
  EXPECT_EQ(listing.out.find("/var/backups"), std::string::npos)
      << "a package may not ship a directory under /var/backups:\n" << listing.out;

  EXPECT_EQ(deb_field(deb, "Package"), "zk-tool\n");
  // dpkg-shlibdeps found the libraries the binary links.
  std::string depends = deb_field(deb, "Depends");
  for (const char* lib : {"libc6", "libarchive13", "libsystemd0", "libcurl4", "libleveldb1d"}) {
    EXPECT_NE(depends.find(lib), std::string::npos) << lib << " not in Depends: " << depends;
  }
  EXPECT_EQ(deb_control_file(deb, "conffiles"), "/" + layout.config + "\n");
  EXPECT_NE(deb_control_file(deb, "postinst").find("daemon-reload"), std::string::npos);
  EXPECT_NE(deb_control_file(deb, "postinst").find("systemd-tmpfiles --create zk-tool.conf"),
            std::string::npos);
  EXPECT_NE(deb_control_file(deb, "postrm").find("daemon-reload"), std::string::npos);
}

}  // namespace
}  // namespace zktool
