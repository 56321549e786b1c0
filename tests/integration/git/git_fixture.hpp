// Fixtures for the git integration tests: a bare "remote" plus a developer clone that
// commits and pushes with the real git CLI.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "config/config.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "util/strings.hpp"

namespace podcd::test {

inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; the test fails with its output if it exits non-zero.
inline std::string Sh(const std::string& cmd) {
  auto r = RunCommand(cmd);
  INFO(cmd << "\n" << r.output);
  REQUIRE(r.exit_code == 0);
  return r.output;
}

inline std::string Git(const std::filesystem::path& dir, const std::string& args) {
  return Sh("git -C " + Quote(dir.string()) +
            " -c user.name=podcd-test -c user.email=test@podcd.invalid -c init.defaultBranch=main "
            "-c protocol.file.allow=always " +
            args);
}

struct GitRemote {
  TempDir dir;
  std::filesystem::path bare = dir / "remote.git";
  std::filesystem::path dev = dir / "dev";

  GitRemote() {
    Sh("git init -q --bare -b main " + Quote(bare.string()));
    Sh("git init -q -b main " + Quote(dev.string()));
    Git(dev, "remote add origin " + Quote(bare.string()));
    Commit({{".gitignore", "secrets/\n"}, {"services/web/compose.yml", "services: {}\n"}}, "first");
  }

  // Writes the files, commits them all, pushes; returns the new commit.
  std::string Commit(std::initializer_list<std::pair<std::string, std::string>> files,
                     const std::string& msg) {
    for (const auto& [rel, body] : files) {
      std::filesystem::create_directories((dev / rel).parent_path());
      std::ofstream(dev / rel, std::ios::binary) << body;
    }
    Git(dev, "add -A");
    Git(dev, "commit -q -m " + Quote(msg));
    Git(dev, "push -q -f origin main");
    return Head();
  }
  std::string Head() { return std::string(Trim(Git(dev, "rev-parse HEAD"))); }
};

inline config::Config::Repo RepoConfig(const std::string& path, const std::string& url) {
  config::Config::Repo r;
  r.path = path;
  r.url = url;
  r.branch = "main";
  r.services_dir = "services";
  r.secrets_dir = "secrets";
  r.sync_timeout = std::chrono::seconds(60);
  return r;
}

inline std::string Slurp(const std::filesystem::path& p) {
  auto t = ReadFile(p);
  return t ? *t : std::string("<missing>");
}

}  // namespace podcd::test
