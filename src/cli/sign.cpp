// `podcd sign [--secret-file F] [FILE|-]`: prints the X-Hub-Signature-256 value for a body.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "http/webhook.hpp"
#include "util/strings.hpp"

namespace podcd::cli {

int Sign(const GlobalOptions& g, const Args& args) {
  std::string secret_file;
  std::string input;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--secret-file") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "podcd sign: --secret-file needs a value\n");
        return kExitUsage;
      }
      secret_file = args[++i];
    } else if (a.starts_with("--secret-file=")) {
      secret_file = a.substr(14);
    } else if (a != "-" && a.starts_with("-")) {
      std::fprintf(stderr,
                   "podcd sign: unknown option \"%s\"\nusage: podcd sign [--secret-file F] [FILE|-]\n",
                   a.c_str());
      return kExitUsage;
    } else if (input.empty()) {
      input = a;
    } else {
      std::fprintf(stderr, "podcd sign: one body at a time (FILE or -)\n");
      return kExitUsage;
    }
  }
  std::string secret;
  if (!secret_file.empty()) {
    auto s = ReadFile(secret_file, 64 << 10);
    if (!s) {
      std::fprintf(stderr, "podcd sign: %s\n", s.error().WithContext(secret_file).What().c_str());
      return kExitFailure;
    }
    secret = *s;
    // A trailing newline from `echo secret > file` is not part of the secret.
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  } else {
    auto cfg = LoadConfig(g);
    if (!cfg) return kExitFailure;
    secret = (*cfg)->webhook.secret;
  }
  if (secret.empty()) {
    std::fprintf(stderr, "podcd sign: the secret is empty\n");
    return kExitFailure;
  }
  std::string body;
  if (input.empty() || input == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto b = ReadFile(input, 64u << 20);
    if (!b) {
      std::fprintf(stderr, "podcd sign: %s\n", b.error().WithContext(input).What().c_str());
      return kExitFailure;
    }
    body = std::move(*b);
  }
  std::printf("sha256=%s\n", http::HmacSha256Hex(secret, body).c_str());
  return kExitOk;
}

}  // namespace podcd::cli
