// `podcd passwd [--user NAME [--role ADMIN|USER]]`: reads a password on stdin and prints its
// Argon2id hash, or a whole users-file line with --user.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "auth/password.hpp"
#include "auth/users.hpp"
#include "cli/commands.hpp"

namespace podcd::cli {
namespace {

constexpr std::size_t kMaxPasswordBytes = 4096;
constexpr const char* kUsage = "usage: podcd passwd [--user NAME [--role ADMIN|USER]] < password\n";

// One line of stdin without its line end; on a terminal, without echo, after a prompt.
bool ReadPassword(const char* prompt, std::string& out) {
  const bool tty = ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::fputs(prompt, stderr);
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  const bool ok = static_cast<bool>(std::getline(std::cin, out));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fputs("\n", stderr);
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return ok || !out.empty();
}

}  // namespace

int Passwd(const GlobalOptions& /*g*/, const Args& args) {
  std::string user;
  std::string role = "USER";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--user" || a == "--role") && i + 1 < args.size()) {
      (a == "--user" ? user : role) = args[++i];
    } else {
      std::fprintf(stderr, "podcd passwd: unknown argument \"%s\"\n%s", a.c_str(), kUsage);
      return kExitUsage;
    }
  }
  if (!user.empty()) {
    // The same rules as the users file, so the line it prints loads.
    auto check = auth::ParseUsers(role + ":" + user + ":" + std::string(64, '0'), "--user/--role");
    if (!check) {
      std::fprintf(stderr, "podcd passwd: %s\n", check.error().message.c_str());
      return kExitUsage;
    }
    role = std::string(auth::ToString(check->users.front().role));
  }
  std::string password;
  if (!ReadPassword("Password: ", password) || password.empty()) {
    std::fprintf(stderr, "podcd passwd: no password on stdin (one line)\n");
    return kExitUsage;
  }
  if (password.size() > kMaxPasswordBytes) {
    std::fprintf(stderr, "podcd passwd: the password is over %zu bytes\n", kMaxPasswordBytes);
    return kExitUsage;
  }
  if (::isatty(STDIN_FILENO) != 0) {
    std::string again;
    if (!ReadPassword("Again: ", again) || again != password) {
      std::fprintf(stderr, "podcd passwd: the passwords differ\n");
      return kExitFailure;
    }
  }
  auto hash = auth::HashPassword(password);
  if (!hash) {
    std::fprintf(stderr, "podcd passwd: %s\n", hash.error().What().c_str());
    return kExitFailure;
  }
  if (user.empty())
    std::printf("%s\n", hash->c_str());
  else
    std::printf("%s:%s:%s\n", role.c_str(), user.c_str(), hash->c_str());
  return kExitOk;
}

}  // namespace podcd::cli
