// `podcd sign [--secret-file F] [FILE|-]`: prints the X-Hub-Signature-256 value for a body.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "http/webhook.hpp"
#include "util/strings.hpp"

namespace podcd::cli {
namespace {

// Reads a file, a FIFO or a process substitution (<(...)), which ReadFile's size check refuses.
Expected<std::string> ReadAll(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kIo, "cannot open", path);
  std::string out;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<std::size_t>(in.gcount()));
    if (out.size() > max_bytes)
      return Fail(ErrorCode::kInvalidArgument, "larger than " + std::to_string(max_bytes) + " bytes", path);
  }
  if (in.bad()) return Fail(ErrorCode::kIo, "read error", path);
  return out;
}

}  // namespace

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
    auto s = ReadAll(secret_file, 64 << 10);
    if (!s) {
      std::fprintf(stderr, "podcd sign: %s\n", s.error().What().c_str());
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
    auto b = ReadAll(input, 64u << 20);
    if (!b) {
      std::fprintf(stderr, "podcd sign: %s\n", b.error().What().c_str());
      return kExitFailure;
    }
    body = std::move(*b);
  }
  std::printf("sha256=%s\n", http::HmacSha256Hex(secret, body).c_str());
  return kExitOk;
}

}  // namespace podcd::cli
