// The users file: IPD's ROLE:username:hash lines, and errors that never quote a hash.
#include "auth/users.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "support/run.hpp"

using namespace podcd;
using namespace podcd::auth;

namespace {
constexpr const char* kArgon =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
constexpr const char* kLegacy = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

std::string ErrorOf(std::string_view text) {
  auto r = ParseUsers(text, "users");
  REQUIRE_FALSE(r.has_value());
  return r.error().What();
}
}  // namespace

TEST_CASE("users: roles, names, comments, blank lines and CRLF") {
  const std::string text = std::string("# podcd users\n\nADMIN:alice:") + kArgon +
                           "\r\n  user : bob.b@x : " + kArgon + "\n   # indented comment\n";
  auto r = ParseUsers(text, "users");
  REQUIRE(r.has_value());
  REQUIRE(r->users.size() == 2);
  CHECK(r->users[0].name == "alice");
  CHECK(r->users[0].role == Role::kAdmin);
  CHECK(r->users[0].hash == kArgon);
  CHECK(r->users[0].line == 3);
  CHECK(r->users[1].name == "bob.b@x");
  CHECK(r->users[1].role == Role::kUser);
  CHECK(r->Find("bob.b@x") == &r->users[1]);
  CHECK(r->Find("carol") == nullptr);
  CHECK(r->warnings.empty());
}

TEST_CASE("users: an IPD SHA-256 hash is accepted with a warning naming the line and the user") {
  auto r = ParseUsers(std::string("USER:ipd:") + kLegacy + "\n", "/etc/podcd/users");
  REQUIRE(r.has_value());
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].starts_with("/etc/podcd/users line 1: user ipd has an unsalted SHA-256 hash"));
  CHECK(r->warnings[0].find(kLegacy) == std::string::npos);
}

TEST_CASE("users: each bad line is named by file and line, and no error quotes a hash") {
  const std::string secretish = "$argon2id$not-really-a-hash-SECRET";
  CHECK(ErrorOf("ADMIN alice " + std::string(kArgon)) == "users line 1: not ROLE:username:hash");
  CHECK(ErrorOf("\nROOT:alice:" + std::string(kArgon)) == "users line 2: the role must be ADMIN or USER");
  CHECK(ErrorOf("ADMIN::" + std::string(kArgon)).starts_with("users line 1: the username must be"));
  CHECK(ErrorOf("ADMIN:al ice:" + std::string(kArgon)).starts_with("users line 1: the username must be"));
  CHECK(ErrorOf("ADMIN:a:" + std::string(kArgon) + "\nUSER:a:" + kArgon) ==
        "users line 2: user a is listed twice");
  const std::string unknown = ErrorOf("ADMIN:alice:" + std::string("hunter2-SECRET"));
  CHECK(unknown.starts_with("users line 1: user alice: the hash is neither"));
  CHECK(unknown.find("SECRET") == std::string::npos);
  CHECK(ErrorOf("ADMIN:alice:" + secretish).find("SECRET") == std::string::npos);
}

TEST_CASE("users: a file others may read is refused; a private one loads") {
  const auto dir = std::filesystem::temp_directory_path() / ("podcd-users-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "users";
  std::ofstream(file) << "ADMIN:alice:" << kArgon << "\n";
  ::chmod(file.c_str(), 0644);
  auto open = LoadUsers(file);
  REQUIRE_FALSE(open.has_value());
  CHECK(open.error().code == ErrorCode::kPermissionDenied);
  CHECK(open.error().What().find("mode 0644") != std::string::npos);
  ::chmod(file.c_str(), 0640);
  auto ok = LoadUsers(file);
  REQUIRE(ok.has_value());
  CHECK(ok->users.size() == 1);
  CHECK(LoadUsers(dir / "missing").error().code == ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST_CASE("podcd passwd: the line it prints loads, and its hash verifies the password it read") {
  auto r = podcd::test::RunCommand("printf 'correct horse\\n' | " + std::string(PODCD_BINARY) +
                                   " passwd --user alice --role admin 2>&1");
  REQUIRE(r.exit_code == 0);
  std::string line = r.output.substr(0, r.output.find('\n'));
  auto users = ParseUsers(line, "out");
  REQUIRE(users.has_value());
  REQUIRE(users->users.size() == 1);
  CHECK(users->users[0].role == Role::kAdmin);
  CHECK(users->users[0].name == "alice");
  CHECK(users->users[0].hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
  CHECK(VerifyPassword(users->users[0].hash, "correct horse"));
  CHECK_FALSE(VerifyPassword(users->users[0].hash, "correct horse\n"));
  auto bare = podcd::test::RunCommand("printf 'x' | " + std::string(PODCD_BINARY) + " passwd");
  REQUIRE(bare.exit_code == 0);
  CHECK(VerifyPassword(bare.output.substr(0, bare.output.find('\n')), "x"));
  CHECK(podcd::test::RunCommand("printf '' | " + std::string(PODCD_BINARY) + " passwd").exit_code == 2);
  CHECK(podcd::test::RunCommand("printf 'x\\n' | " + std::string(PODCD_BINARY) + " passwd --user 'a b'")
            .exit_code == 2);
}
