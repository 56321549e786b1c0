// Runs the real podcd binary: `podcd token` creates, lists and revokes per-user tokens in the
// state directory, within what the user's role allows.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "support/run.hpp"
#include "support/temp_dir.hpp"

using podcd::test::RunCommand;

namespace {
const std::string kBin = PODCD_BINARY;
// The reference Argon2id vector (password "password"); any valid hash serves here.
const std::string kHash =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";

std::string LastLine(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}
}  // namespace

TEST_CASE("podcd token: create prints the token once as its last line, keeps only a digest; list; revoke") {
  podcd::test::TempDir d;
  const auto users = d.Write("users", "ADMIN:alice:" + kHash + "\nUSER:bob:" + kHash + "\n");
  ::chmod(users.c_str(), 0600);
  std::filesystem::create_directories(d.path() / "state");
  const std::string env = "env -i WEBHOOK_SECRET=0123456789abcdef PODCD_REPO_PATH=/srv/env PODCD_STATE_DIR=" +
                          (d.path() / "state").string() + " PODCD_USERS_FILE=" + users.string() + " ";
  auto created = RunCommand(env + kBin + " token create --user alice --scope deploy");
  INFO(created.output);
  REQUIRE(created.exit_code == 0);
  const std::string token = LastLine(created.output);
  CHECK(token.starts_with("podcd_"));
  CHECK(token.size() == 83);
  const auto stored = RunCommand("cat " + (d.path() / "state" / "tokens.json").string());
  CHECK(stored.output.find(token.substr(19)) == std::string::npos);
  CHECK(stored.output.find("\"user\":\"alice\"") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat((d.path() / "state" / "tokens.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto list = RunCommand(env + kBin + " token list");
  CHECK(list.exit_code == 0);
  const std::string id = token.substr(6, 12);
  CHECK(list.output.find(id) != std::string::npos);
  CHECK(list.output.find("alice") != std::string::npos);
  CHECK(list.output.find("deploy") != std::string::npos);
  CHECK(list.output.find(token.substr(19)) == std::string::npos);

  // A USER may hold read tokens only; unknown users and scopes are refused.
  auto bob = RunCommand(env + kBin + " token create --user bob --scope deploy");
  CHECK(bob.exit_code == 1);
  CHECK(bob.output.find("role USER, which allows scope read only") != std::string::npos);
  CHECK(RunCommand(env + kBin + " token create --user bob --scope read").exit_code == 0);
  auto nobody = RunCommand(env + kBin + " token create --user carol --scope read");
  CHECK(nobody.exit_code == 1);
  CHECK(nobody.output.find("no user carol") != std::string::npos);
  CHECK(RunCommand(env + kBin + " token create --user alice --scope root").exit_code == 2);

  auto revoked = RunCommand(env + kBin + " token revoke " + id);
  CHECK(revoked.exit_code == 0);
  CHECK(RunCommand(env + kBin + " token list").output.find(id) == std::string::npos);
  CHECK(RunCommand(env + kBin + " token revoke " + id).exit_code == 1);
}

TEST_CASE("podcd token create without users configured says so") {
  podcd::test::TempDir d;
  const std::string env =
      "env -i WEBHOOK_SECRET=0123456789abcdef PODCD_REPO_PATH=/srv/env PODCD_STATE_DIR=" + d.path().string() +
      " ";
  auto r = RunCommand(env + kBin + " token create --user alice --scope read");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("no users are configured (auth.users_file") != std::string::npos);
}
