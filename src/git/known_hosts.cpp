#include "git/known_hosts.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "util/base64.hpp"
#include "util/strings.hpp"

namespace podcd::git {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto pos = s.find(sep);
    out.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// OpenSSH's match_pattern: only * and ? are special ("[host]:port" brackets are literal).
bool Glob(std::string_view pat, std::string_view s) {
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

// "|1|base64(salt)|base64(HMAC-SHA1(salt, name))"
bool HashedMatches(std::string_view pattern, const std::string& name) {
  auto parts = Split(pattern.substr(1), '|');
  if (parts.size() != 3 || parts[0] != "1") return false;
  auto salt = Base64Decode(parts[1]);
  auto want = Base64Decode(parts[2]);
  if (!salt || !want) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), salt->data(), static_cast<int>(salt->size()),
           reinterpret_cast<const unsigned char*>(name.data()), name.size(), mac, &mac_len) == nullptr) {
    return false;
  }
  return want->size() == mac_len &&
         std::equal(want->begin(), want->end(), reinterpret_cast<const char*>(mac));
}

// Does the comma-separated pattern list name `name` (already in "[host]:port" form if needed)?
bool HostMatches(std::string_view patterns, const std::string& name) {
  if (patterns.starts_with("|")) return HashedMatches(patterns, name);
  bool matched = false;
  for (auto p : Split(patterns, ',')) {
    bool negated = p.starts_with("!");
    if (negated) p.remove_prefix(1);
    std::string pat = Lower(p);
    if (Glob(pat, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

}  // namespace

HostKeyVerdict CheckHostKey(std::string_view text, std::string_view host, std::uint16_t port,
                            std::string_view key_blob) {
  std::string name = Lower(host);
  if (port != 22) name = "[" + name + "]:" + std::to_string(port);
  bool host_known = false;
  bool matched = false;
  for (auto raw : Split(text, '\n')) {
    auto line = Trim(raw);
    if (line.empty() || line.starts_with("#")) continue;
    auto f = Fields(line);
    bool revoked = false;
    if (!f.empty() && f[0].starts_with("@")) {
      if (f[0] == "@revoked")
        revoked = true;
      else
        continue;  // @cert-authority: host certificates are not supported
      f.erase(f.begin());
    }
    if (f.size() < 3 || !HostMatches(f[0], name)) continue;
    auto key = Base64Decode(f[2]);
    if (!key) continue;
    bool same = *key == key_blob;
    if (revoked) {
      if (same) return HostKeyVerdict::kRevoked;
      continue;
    }
    host_known = true;
    if (same) matched = true;
  }
  if (matched) return HostKeyVerdict::kMatch;
  return host_known ? HostKeyVerdict::kMismatch : HostKeyVerdict::kUnknown;
}

}  // namespace podcd::git
