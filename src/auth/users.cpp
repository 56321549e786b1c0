#include "auth/users.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "util/strings.hpp"

namespace podcd::auth {
namespace {

constexpr std::size_t kMaxNameBytes = 64;
constexpr std::uintmax_t kMaxFileBytes = 1 << 20;

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '@' || c == '+';
  });
}

bool ParseRole(std::string_view word, Role& role) {
  std::string upper(word);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char c) { return static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c); });
  if (upper == "ADMIN")
    role = Role::kAdmin;
  else if (upper == "USER")
    role = Role::kUser;
  else
    return false;
  return true;
}

}  // namespace

std::string_view ToString(Role role) { return role == Role::kAdmin ? "ADMIN" : "USER"; }

const User* Users::Find(std::string_view name) const {
  for (const auto& u : users) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

Expected<Users> ParseUsers(std::string_view text, std::string_view file) {
  Users out;
  int number = 0;
  for (const std::string_view raw : SplitLines(text)) {
    ++number;
    const std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = std::string(file) + " line " + std::to_string(number);
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos)
      return Fail(ErrorCode::kInvalidArgument, "not ROLE:username:hash", where);
    User u;
    u.line = number;
    const std::string_view role = Trim(line.substr(0, first));
    u.name = std::string(Trim(line.substr(first + 1, second - first - 1)));
    u.hash = std::string(Trim(line.substr(second + 1)));
    if (!ParseRole(role, u.role))
      return Fail(ErrorCode::kInvalidArgument, "the role must be ADMIN or USER", where);
    if (!ValidName(u.name))
      return Fail(ErrorCode::kInvalidArgument, "the username must be 1 to 64 of A-Z a-z 0-9 . _ - @ +",
                  where);
    if (out.Find(u.name) != nullptr)
      return Fail(ErrorCode::kInvalidArgument, "user " + u.name + " is listed twice", where);
    switch (KindOf(u.hash)) {
      case HashKind::kArgon2id: break;
      case HashKind::kLegacySha256:
        out.warnings.push_back(where + ": user " + u.name +
                               " has an unsalted SHA-256 hash (IPD's format), accepted for migration only: "
                               "replace it with the output of `podcd passwd`");
        break;
      case HashKind::kUnknown:
        return Fail(ErrorCode::kInvalidArgument,
                    "user " + u.name +
                        ": the hash is neither an Argon2id PHC string nor 64 hex digits of SHA-256 "
                        "(make one with `podcd passwd`)",
                    where);
    }
    out.users.push_back(std::move(u));
  }
  return out;
}

Expected<Users> LoadUsers(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return Fail(ErrorCode::kNotFound, "cannot read the users file", file.string());
  if (!S_ISREG(st.st_mode)) return Fail(ErrorCode::kInvalidArgument, "not a regular file", file.string());
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Fail(ErrorCode::kPermissionDenied,
                std::string("the users file may be read or written by others (mode ") + mode +
                    "): it holds password hashes; chmod o-rwx it",
                file.string());
  }
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxFileBytes)
    return Fail(ErrorCode::kInvalidArgument, "the users file is over 1 MiB", file.string());
  auto text = ReadFile(file, kMaxFileBytes);
  if (!text) return std::unexpected(text.error());
  return ParseUsers(*text, file.string());
}

}  // namespace podcd::auth
