#include "git/known_hosts.hpp"
#include "util/base64.hpp"

#include <catch2/catch.hpp>

using podcd::Base64Decode;
using podcd::git::CheckHostKey;
using podcd::git::HostKeyVerdict;

namespace {
// Two ed25519 public keys (base64 of the SSH wire format), as in known_hosts files.
const std::string kKeyA = "AAAAC3NzaC1lZDI1NTE5AAAAIEBpHJNwR8eSIlKb7zsqs8IB0nkTiJ3RFC8VS/ppkAJc";
const std::string kKeyB = "AAAAC3NzaC1lZDI1NTE5AAAAIM8XWqBhBGJQ2CbTdRK39pfjH5VbRqMXhM5HXAd7Fm3J";
std::string Blob(const std::string& b64) {
  auto out = Base64Decode(b64);
  REQUIRE(out.has_value());
  return *out;
}
}  // namespace

TEST_CASE("known_hosts matching") {
  const std::string text =
      "# comment\n\n"
      "github.com,140.82.121.4 ssh-ed25519 " +
      kKeyA +
      " comment\n"
      "[127.0.0.1]:2222 ssh-ed25519 " +
      kKeyB +
      "\n"
      "*.example.org,!bad.example.org ssh-ed25519 " +
      kKeyA + "\n";
  CHECK(CheckHostKey(text, "github.com", 22, Blob(kKeyA)) == HostKeyVerdict::kMatch);
  CHECK(CheckHostKey(text, "GitHub.com", 22, Blob(kKeyA)) == HostKeyVerdict::kMatch);
  CHECK(CheckHostKey(text, "140.82.121.4", 22, Blob(kKeyA)) == HostKeyVerdict::kMatch);
  CHECK(CheckHostKey(text, "github.com", 22, Blob(kKeyB)) == HostKeyVerdict::kMismatch);
  CHECK(CheckHostKey(text, "github.com", 2222, Blob(kKeyA)) == HostKeyVerdict::kUnknown);
  CHECK(CheckHostKey(text, "127.0.0.1", 2222, Blob(kKeyB)) == HostKeyVerdict::kMatch);
  CHECK(CheckHostKey(text, "127.0.0.1", 22, Blob(kKeyB)) == HostKeyVerdict::kUnknown);
  CHECK(CheckHostKey(text, "git.example.org", 22, Blob(kKeyA)) == HostKeyVerdict::kMatch);
  CHECK(CheckHostKey(text, "bad.example.org", 22, Blob(kKeyA)) == HostKeyVerdict::kUnknown);
  CHECK(CheckHostKey("", "github.com", 22, Blob(kKeyA)) == HostKeyVerdict::kUnknown);
}

TEST_CASE("hashed and revoked entries") {
  // `ssh-keygen -H` form of "[127.0.0.1]:2222", salt and hash computed with HMAC-SHA1.
  const std::string hashed = "|1|c2FsdHNhbHRzYWx0c2FsdHNhbHQ=|";
  // Wrong hash never matches.
  CHECK(CheckHostKey(hashed + "AAAAAAAAAAAAAAAAAAAAAAAAAAA= ssh-ed25519 " + kKeyA, "127.0.0.1", 2222,
                     Blob(kKeyA)) == HostKeyVerdict::kUnknown);
  const std::string text = "github.com ssh-ed25519 " + kKeyA + "\n@revoked * ssh-ed25519 " + kKeyA + "\n";
  CHECK(CheckHostKey(text, "github.com", 22, Blob(kKeyA)) == HostKeyVerdict::kRevoked);
  CHECK(CheckHostKey("garbage line\n", "github.com", 22, Blob(kKeyA)) == HostKeyVerdict::kUnknown);
}
