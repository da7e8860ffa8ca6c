// `zk-tool keygen <file>`: a new random key for encrypted archives
// (--encrypt-key-file), written mode 0600, never over an existing file.
#include <cstdio>
#include <filesystem>

#include "archive/encryption.h"
#include "cli/command.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;

class KeygenCommand : public Command {
 public:
  const char* name() const override { return "keygen"; }
  const char* example() const override { return "zk-tool keygen /etc/zk-tool/archive.key"; }
  const char* summary() const override {
    return "Write a new random key for encrypted backups (--encrypt-key-file)";
  }

  void setup(CLI::App& app) override {
    app.add_option("file", file_, "Where to write the key (must not exist)")->required();
    app.footer(
        "The key is 32 random bytes from libsodium, written as one line, mode 0600. Keep a\n"
        "copy away from the cluster: without it an encrypted backup cannot be read. Archives\n"
        "record which key sealed them (a hash, not the key), so a wrong key is named.");
  }

  Status run() override {
    if (Status s = archive::ArchiveKey::generate_file(file_); !s) return s;
    auto key = archive::ArchiveKey::read_file(file_);
    if (!key) return key.error();
    std::printf("wrote %s (key id %s)\n", file_.c_str(), key->id().c_str());
    return Ok{};
  }

 private:
  fs::path file_;
};

}  // namespace

std::unique_ptr<Command> make_keygen_command() { return std::make_unique<KeygenCommand>(); }

}  // namespace zktool
