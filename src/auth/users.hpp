// The users file (auth.users_file): one user a line in IPD's format `ROLE:username:hash`,
// roles ADMIN (may act) and USER (may read), `#` comments. Errors name the file, the line and
// the user, never a hash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "auth/password.hpp"
#include "util/error.hpp"

namespace podcd::auth {

enum class Role : std::uint8_t { kUser, kAdmin };
std::string_view ToString(Role role);

struct User {
  std::string name;
  Role role = Role::kUser;
  std::string hash;  // as written: an Argon2id PHC string, or legacy SHA-256 hex
  int line = 0;
};

struct Users {
  std::vector<User> users;
  std::vector<std::string> warnings;  // legacy hashes, one line each, for the log and check-config
  [[nodiscard]] const User* Find(std::string_view name) const;
};

// Parses the text of a users file; `file` names it in messages.
Expected<Users> ParseUsers(std::string_view text, std::string_view file);

// Reads and parses a users file; refuses one that others may read or write, and one over 1 MiB.
Expected<Users> LoadUsers(const std::filesystem::path& file);

}  // namespace podcd::auth
